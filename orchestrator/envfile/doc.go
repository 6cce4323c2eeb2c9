// Package envfile writes the env files a project declares: devenv's block
// of KEY=VALUE lines inside a file that keeps every other line, never
// written through a link or outside the project, 0600 when new.
package envfile
