# devenv in a container: mount the engine socket and the project, e.g.
#   docker build -t devenv .
#   docker run --rm -it -v /var/run/docker.sock:/var/run/docker.sock \
#     -v "$PWD:$PWD" -w "$PWD" -v "$HOME/.config/devenv:/root/.config/devenv" devenv up
# Host-port probing sees the container's own sockets only, so conflicts with
# host processes are found when the engine binds the port; install the binary
# on the host for the full check.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/devenv ./cmd/devenv

FROM scratch
COPY --from=build /out/devenv /devenv
ENTRYPOINT ["/devenv"]
