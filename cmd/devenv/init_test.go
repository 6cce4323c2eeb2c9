package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitCommand(t *testing.T) {
	h := newHarness(t)
	src := "# keep me\nname: app\nservices:\n  db:\n    image: postgres:15\n    ports: [\"5434:5432\"]\n"
	h.write("docker-compose.dev.yml", src)
	h.write("mix.exs", `defp deps, do: [{:phoenix, "~> 1.7"}]`)
	h.write(".env.example", "DATABASE_URL=ecto://postgres@localhost:5434/app\nOTHER=1\n")
	r := h.must("init")
	if !strings.Contains(r.stdout, "role: phoenix") || !strings.Contains(r.stdout, `"DATABASE_URL": "ecto://postgres@localhost:{db}/app"`) {
		t.Fatalf("init:\n%s", r.stdout)
	}
	if got := mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml")); got != src {
		t.Fatal("init without --write changed the file")
	}
	h.must("init", "--write")
	got := mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml"))
	if !strings.HasPrefix(got, "# keep me\nname: app\nx-devenv:\n") || !strings.HasSuffix(got, "services:\n  db:\n    image: postgres:15\n    ports: [\"5434:5432\"]\n") {
		t.Fatalf("written:\n%s", got)
	}
	h.must("config", "-q")
	// The block has it all now: said, nothing written.
	if r = h.run("init", "--write"); r.code != 0 || !strings.Contains(r.stderr, "already has everything") || mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml")) != got {
		t.Fatalf("second init --write: %s", r)
	}
	// A block that lacks something: only that is proposed; --write is
	// refused without --force.
	h.write("frontend/package.json", `{"scripts": {"dev": "vite"}, "devDependencies": {"vite": "^5"}}`)
	if r = h.run("init"); r.code != 0 || !strings.Contains(r.stdout, "role: vite") || strings.Contains(r.stdout, "role: phoenix") || !strings.Contains(r.stderr, "has an x-devenv block already") {
		t.Fatalf("init with a block lacking the frontend: %s", r)
	}
	if r = h.run("init", "--write"); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("init --write with a block lacking something: %s", r)
	}
	os.RemoveAll(filepath.Join(h.dir, "frontend"))
	if r = h.run("init", "--force"); r.code != 2 {
		t.Fatalf("init --force without --write: %s", r)
	}
	h.must("init", "--write", "--force")
	if mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml")) != got {
		t.Fatal("init --write --force with the same proposal changed the file")
	}
	// A compose file that is a symlink is not written through.
	real := filepath.Join(t.TempDir(), "real.yml")
	os.WriteFile(real, []byte(src), 0o644)
	os.Remove(filepath.Join(h.dir, "docker-compose.dev.yml"))
	os.Symlink(real, filepath.Join(h.dir, "docker-compose.dev.yml"))
	if r = h.run("init", "--write"); r.code != 2 || mustRead(t, real) != src {
		t.Fatalf("init --write through a symlink: %s", r)
	}
}

// Usage errors of the new commands and flags come before any engine call:
// exit 2, naming what contradicts.
func TestNewUsageErrors(t *testing.T) {
	h := newHarness(t)
	h.env = append(h.env, "DOCKER_HOST=unix:///nonexistent")
	h.write("docker-compose.dev.yml", "name: u\nservices:\n  db: {image: postgres:15}\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "-d", "--abort-on-container-exit"}, "-d"},
		{[]string{"up", "--wait", "--attach", "db"}, "--wait"},
		{[]string{"up", "--build", "--no-build"}, "--no-build"},
		{[]string{"up", "--abort-on-container-exit", "--abort-on-container-failure"}, "contradict"},
		{[]string{"up", "--attach", "nosuch"}, "nosuch"},
		{[]string{"exec", "--index", "2", "db", "true"}, "--index"},
		{[]string{"exec", "db"}, "command"},
		{[]string{"init", "--force"}, "--write"},
	} {
		if r := h.run(c.args...); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %s", c.args, r)
		}
	}
	// An x-devenv block in an override file: init --write leaves the main
	// file alone and says where the block is.
	h.write("docker-compose.override.yml", "x-devenv:\n  stack: s\n")
	h.write("mix.exs", `[{:phoenix, "~> 1.7"}]`)
	main := mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml"))
	r := h.run("-f", "docker-compose.dev.yml", "-f", "docker-compose.override.yml", "init", "--write")
	if r.code != 2 || !strings.Contains(r.stderr, "another compose file") || mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml")) != main {
		t.Fatalf("init --write with the block in an override: %s", r)
	}
}

// Nothing to propose: init says so and never writes an empty x-devenv.
func TestInitNothingToPropose(t *testing.T) {
	h := newHarness(t)
	src := "services:\n  web:\n    image: nginx\n"
	h.write("docker-compose.dev.yml", src)
	r := h.run("init", "--write")
	if r.code != 0 || !strings.Contains(r.stderr, "nothing to propose") || r.stdout != "" || mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml")) != src {
		t.Fatalf("init --write with nothing to propose: %s", r)
	}
	// An empty block is said to be empty, not to have everything.
	h.write("docker-compose.dev.yml", src+"x-devenv:\n")
	if r := h.run("init"); r.code != 0 || !strings.Contains(r.stderr, "is empty, and there is nothing to propose") || strings.Contains(r.stderr, "already has everything") {
		t.Fatalf("init with an empty x-devenv block: %s", r)
	}
}

// init --write --force puts the whole proposal in place of the block, not
// only what the block lacked.
func TestInitForceReplacesWithTheWholeProposal(t *testing.T) {
	h := newHarness(t)
	h.write("mix.exs", `[{:phoenix, "~> 1.7"}]`)
	h.write("frontend/package.json", `{"scripts": {"dev": "vite"}, "devDependencies": {"vite": "^5"}}`)
	h.write("docker-compose.dev.yml", "x-devenv:\n  stack: custom\n  host:\n    api: {role: phoenix, port: 4000}\nservices:\n  db:\n    image: postgres:15\n    ports: [\"5434:5432\"]\n")
	h.must("init", "--write", "--force")
	got := mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml"))
	for _, want := range []string{"backend:\n      role: phoenix", "role: vite", "services:\n  db:\n"} {
		if !strings.Contains(got, want) {
			t.Fatalf("%q missing after init --write --force:\n%s", want, got)
		}
	}
	h.must("config", "-q")
}
