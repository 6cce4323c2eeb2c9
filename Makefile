# Common tasks; each is a plain script or go command.
.PHONY: build test images image bench ci lint
build:
	go build -o bin/devenv ./cmd/devenv
images:
	scripts/build-images
image:
	scripts/build-image
test:
	scripts/test
bench:
	go test -run '^$$' -bench . ./compose ./registry ./orchestrator
	scripts/bench
lint:
	gofmt -l . && go vet ./...
ci:
	bash .ci/run
