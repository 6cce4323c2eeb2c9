# devenv as a small image: the static binary on scratch, run as a non-root
# user. It packages a binary built beforehand (as GoReleaser's images do),
# so it builds where no registry serves golang: images:
#   scripts/build-image            # CGO_ENABLED=0 go build -o dist/devenv, then docker build -t devenv .
#   docker run --rm --network host --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -v /var/run/docker.sock:/var/run/docker.sock -v "$PWD:$PWD" -w "$PWD" \
#     -v "$HOME/.config/devenv:/config" -e DEVENV_REGISTRY=/config/registry.yaml devenv up
# --network host lets devenv see the host's listening sockets (its port
# checks); without it, it sees only the container's own network namespace.
FROM scratch
COPY dist/devenv /devenv
COPY --chown=65532:65532 dist/home /home/devenv
ENV HOME=/home/devenv
USER 65532:65532
ENTRYPOINT ["/devenv"]
