// Package testproject loads a compose file written by a test as a project,
// for the tests of the planner and the core.
package testproject

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/devenv-dev/devenv/compose"
)

// Load writes content as a docker-compose.dev.yml in a new directory and
// loads it, failing the test on any error.
func Load(t testing.TB, content string) *compose.Project {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "docker-compose.dev.yml")
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := compose.Load(context.Background(), compose.Options{WorkingDir: dir, Environ: []string{"PATH=/usr/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
