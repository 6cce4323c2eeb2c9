package orchestrator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/orchestrator/envfile"

	"github.com/devenv-dev/devenv/internal/errdefs"
)

const envStack = `name: demo
x-devenv:
  host:
    web: {port: %d, command: "exec sleep 60"}
  env_files:
    web/.env: {API_URL: "http://localhost:{api}", NAME: "two words", PORT_OF_WEB: "{web}"}
services:
  api:
    image: demo/api:dev
    ports: ["4000:4000"]
`

// env writes the managed block, keeping the lines it did not write, with
// values quoted where needed, 0600 for a new file; --check reports drift.
func TestWriteEnvFilesKeepsOtherLines(t *testing.T) {
	b := newBed(t, strings.Replace(envStack, "%d", "5173", 1))
	os.MkdirAll(filepath.Join(b.dir, "web"), 0o755)
	os.WriteFile(filepath.Join(b.dir, "web", ".env"), []byte("MINE=kept\nAPI_URL=stale\n"), 0o644)
	files, err := b.o.EnvFiles(t.Context(), b.project())
	if err != nil || len(files) != 1 || len(files[0].Drift) == 0 {
		t.Fatalf("drift: %+v %v", files, err)
	}
	if _, err := b.o.WriteEnvFiles(t.Context(), b.project()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(b.dir, "web", ".env"))
	for _, want := range []string{"MINE=kept", "API_URL=http://localhost:4000", `NAME='two words'`, "PORT_OF_WEB=5173", envfile.BlockBegin, envfile.BlockEnd} {
		if !strings.Contains(string(got), want) {
			t.Fatalf("%q missing from:\n%s", want, got)
		}
	}
	if !strings.HasPrefix(string(got), "MINE=kept\nAPI_URL=stale\n") {
		t.Fatalf("the lines env did not write were changed:\n%s", got)
	}
	files, _ = b.o.EnvFiles(t.Context(), b.project())
	if len(files[0].Drift) != 0 {
		t.Fatalf("drift after writing: %v", files[0].Drift)
	}
	// Written again: the same bytes.
	b.o.WriteEnvFiles(t.Context(), b.project())
	if again, _ := os.ReadFile(filepath.Join(b.dir, "web", ".env")); string(again) != string(got) {
		t.Fatalf("not idempotent:\n%s\n---\n%s", got, again)
	}
}

// A new env file is 0600 in a new 0700 directory; a symlink, an absolute
// path or one that leaves the project is refused as a configuration error.
func TestWriteEnvFilesRefusesUnsafePaths(t *testing.T) {
	b := newBed(t, strings.Replace(envStack, "%d", "5173", 1))
	if _, err := b.o.WriteEnvFiles(t.Context(), b.project()); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(b.dir, "web", ".env"))
	dir, _ := os.Stat(filepath.Join(b.dir, "web"))
	if st.Mode().Perm() != 0o600 || dir.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v", st.Mode(), dir.Mode())
	}
	outside := filepath.Join(t.TempDir(), "target")
	os.WriteFile(outside, []byte("SECRET=1\n"), 0o600)
	os.Remove(filepath.Join(b.dir, "web", ".env"))
	os.Symlink(outside, filepath.Join(b.dir, "web", ".env"))
	if _, err := b.o.WriteEnvFiles(t.Context(), b.project()); err == nil {
		t.Fatal("wrote through a symlink")
	}
	if got, _ := os.ReadFile(outside); string(got) != "SECRET=1\n" {
		t.Fatalf("the link's target changed: %q", got)
	}
	// A directory on the way that is a link out of the project.
	os.RemoveAll(filepath.Join(b.dir, "web"))
	os.Symlink(t.TempDir(), filepath.Join(b.dir, "web"))
	if _, err := b.o.WriteEnvFiles(t.Context(), b.project()); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("a linked directory: %v", err)
	}
}

// up writes the env files before any host service starts, and says so;
// up --no-env-files and x-devenv.write_env_files: false only warn.
func TestUpWritesEnvFilesBeforeHostServices(t *testing.T) {
	web := listen(t)
	b := newBed(t, strings.Replace(envStack, "%d", itoa(web), 1))
	hosts := newFakeHosts(t)
	envFile := filepath.Join(b.dir, "web", ".env")
	var atStart string
	hosts.onStart = func(HostSpec) {
		got, _ := os.ReadFile(envFile)
		atStart = string(got)
	}
	b.o.Hosts = hosts
	b.mustUp(UpOptions{})
	if !strings.Contains(atStart, "API_URL=http://localhost:4000") {
		t.Fatalf("the host service started before its env file was written: %q", atStart)
	}
	if !b.rec.has("Written", filepath.Join("web", ".env")) {
		t.Fatalf("up did not say it wrote web/.env: %v", b.rec.events)
	}
	// Up to date: written again by nobody, said by nobody.
	written := func() (n int) {
		b.rec.mu.Lock()
		defer b.rec.mu.Unlock()
		for _, e := range b.rec.events {
			if e.Status == "Written" {
				n++
			}
		}
		return n
	}
	before := written()
	b.mustUp(UpOptions{})
	if written() != before {
		t.Fatalf("up said it wrote an env file that was up to date: %v", b.rec.events)
	}
	os.Remove(envFile)
	b.mustUp(UpOptions{NoEnvFiles: true})
	if _, err := os.Stat(envFile); err == nil {
		t.Fatal("up --no-env-files wrote the env file")
	}
	if !b.rec.has("Warning", "out of date") {
		t.Fatalf("no drift warning: %v", b.rec.events)
	}
	b.write(strings.Replace(strings.Replace(envStack, "%d", itoa(web), 1), "x-devenv:\n", "x-devenv:\n  write_env_files: false\n", 1))
	b.mustUp(UpOptions{})
	if _, err := os.Stat(envFile); err == nil {
		t.Fatal("x-devenv.write_env_files: false was not honoured")
	}
}

// A block whose end line is gone is refused (exit 2 naming the file), and
// the lines after its start, which may be the user's, are kept.
func TestWriteEnvFilesRefusesAnUnterminatedBlock(t *testing.T) {
	b := newBed(t, strings.Replace(envStack, "%d", "5173", 1))
	os.MkdirAll(filepath.Join(b.dir, "web"), 0o755)
	broken := "A=1\n" + envfile.BlockBegin + "\nAPI_URL=old\nSECRET_KEY=keep-me\n"
	path := filepath.Join(b.dir, "web", ".env")
	os.WriteFile(path, []byte(broken), 0o600)
	_, err := b.o.WriteEnvFiles(t.Context(), b.project())
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != broken {
		t.Fatalf("the file changed:\n%s", got)
	}
	if _, err := b.up(UpOptions{}); !errors.Is(err, errdefs.ErrInvalid) || len(b.eng.Log) != 0 {
		t.Fatalf("up with the broken env file: %v, engine calls %v", err, b.eng.Log)
	}
	if _, err := os.Stat(b.reg); err == nil {
		t.Fatal("up reserved ports before refusing the env file")
	}
}
