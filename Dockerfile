# devenv as a small image: a static binary on scratch, run as a non-root user.
#   docker build -t devenv .
#   docker run --rm --network host --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -v /var/run/docker.sock:/var/run/docker.sock -v "$PWD:$PWD" -w "$PWD" \
#     -v "$HOME/.config/devenv:/config" -e DEVENV_REGISTRY=/config/registry.yaml devenv up
# --network host lets devenv see the host's listening sockets (its port
# checks); without it, it sees only the container's own network namespace.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/devenv ./cmd/devenv \
 && mkdir -p /out/home && chown 65532:65532 /out/home

FROM scratch
COPY --from=build /out/devenv /devenv
COPY --from=build --chown=65532:65532 /out/home /home/devenv
ENV HOME=/home/devenv
USER 65532:65532
ENTRYPOINT ["/devenv"]
