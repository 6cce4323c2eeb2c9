// Package docker implements orchestrator.Engine with the Docker Engine API,
// and finds the engine the way the docker CLI does (DOCKER_HOST, contexts).
package docker
