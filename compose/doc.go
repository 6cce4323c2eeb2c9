// Package compose loads a project's compose files exactly as docker compose
// does (through compose-go) and turns them into devenv's port and x-devenv model.
package compose
