package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// exampleHarness copies the example project, unchanged, into a temporary
// directory and runs it with its own registry.
func exampleHarness(t *testing.T) (*harness, *client.Client) {
	t.Helper()
	c := testbed.Engine(t)
	testbed.ServerImage(t) // tags electricsql/electric:latest
	testbed.RequireImages(t, "postgres:15", "redis:7", "electricsql/electric:latest")
	h := newHarness(t)
	example := filepath.Join(testbed.Root(), "examples", "enforcement")
	for _, f := range []string{"docker-compose.dev.yml", "standin/go.mod", "standin/main.go"} {
		h.write(f, mustRead(t, filepath.Join(example, f)))
	}
	cleanupProject(t, c, "sertantai-enforcement")
	for _, p := range []int{4002, 5173, 5434, 3001, 6380} {
		if listening(p) {
			t.Fatalf("port %d is busy on this machine; the example needs it", p)
		}
	}
	return h, c
}

func healthRows(t *testing.T, r result) map[string]orchestrator.HealthRow {
	t.Helper()
	rows := map[string]orchestrator.HealthRow{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row orchestrator.HealthRow
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("health json %q: %v", line, err)
		}
		rows[row.Service+"/"+row.Check] = row
	}
	return rows
}

func TestIntegrationExampleStack(t *testing.T) {
	h, c := exampleHarness(t)
	// The containers only, as the reference document's "Services Only".
	r := h.must("up", "postgres", "electric", "redis")
	if !strings.Contains(r.stderr, "frontend/.env Written") {
		t.Errorf("up should write the env file and say so:\n%s", r.stderr)
	}
	os.Remove(filepath.Join(h.dir, "frontend", ".env")) // env writes it below

	// Published on 127.0.0.1 only.
	r = h.must("port", "postgres", "5432")
	if strings.TrimSpace(r.stdout) != "127.0.0.1:5434" {
		t.Fatalf("port postgres 5432 = %q", r.stdout)
	}

	// health: containers healthy, host services down while nothing listens.
	r = h.run("health", "--format", "json")
	if r.code != 1 {
		t.Fatalf("health must exit 1 while backend and frontend are down:\n%s", r)
	}
	rows := healthRows(t, r)
	for key, want := range map[string]string{
		"postgres/postgres": "healthy", "postgres/container": "healthy", "redis/redis": "healthy",
		"electric/http": "healthy", "backend/http": "down", "frontend/http": "down",
	} {
		if rows[key].Status != want {
			t.Errorf("%s: %q, want %q (%s)", key, rows[key].Status, want, rows[key].Detail)
		}
	}
	if rows["backend/http"].Kind != "host" || rows["postgres/postgres"].Kind != "container" {
		t.Errorf("kinds: %+v", rows)
	}
	// A backend listening on 4002 turns healthy.
	ln, err := net.Listen("tcp", "127.0.0.1:4002")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "phoenix") })}
	go srv.Serve(ln)
	defer srv.Close()
	r = h.run("health", "--format", "json", "backend")
	if r.code != 0 || healthRows(t, r)["backend/http"].Status != "healthy" {
		t.Fatalf("backend should be healthy:\n%s", r)
	}

	// env: writes the frontend .env, keeps user lines, 0600 under umask 000.
	old := syscall.Umask(0)
	h.write("frontend/.env.keep", "")
	os.Remove(filepath.Join(h.dir, "frontend/.env.keep"))
	r = h.must("env")
	syscall.Umask(old)
	envPath := filepath.Join(h.dir, "frontend", ".env")
	content := mustRead(t, envPath)
	for _, want := range []string{"PUBLIC_API_URL=http://localhost:4002", "PUBLIC_ELECTRIC_URL=http://localhost:3001", "PUBLIC_ENV=development"} {
		if !strings.Contains(content, want) {
			t.Errorf(".env lacks %q:\n%s", want, content)
		}
	}
	if st, _ := os.Stat(envPath); st.Mode().Perm() != 0o600 {
		t.Errorf(".env mode %o, want 600", st.Mode().Perm())
	}
	os.WriteFile(envPath, []byte("# mine\nMY_FLAG=1\n"+content+"LATER=2\n"), 0o600)
	if r := h.run("env", "--check"); r.code != 0 {
		t.Fatalf("env --check after env: %s", r)
	}
	h.must("env")
	content = mustRead(t, envPath)
	if !strings.HasPrefix(content, "# mine\nMY_FLAG=1\n") || !strings.Contains(content, "LATER=2") || strings.Count(content, "PUBLIC_API_URL") != 1 {
		t.Fatalf("user lines not kept:\n%s", content)
	}
	r = h.must("env", "--format", "shell")
	if !strings.Contains(r.stdout, "export PUBLIC_ELECTRIC_URL='http://localhost:3001'") {
		t.Errorf("env --format shell:\n%s", r.stdout)
	}

	// doctor: the stack itself is fine apart from host services.
	r = h.run("doctor")
	if !strings.Contains(r.stdout, "engine") || !strings.Contains(r.stdout, "registry") {
		t.Fatalf("doctor:\n%s", r)
	}

	// ls lists the project, and one made with compose labels only.
	other := projectName(t)
	cleanupProject(t, c, other)
	ct, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{Name: other + "-web-1", Config: &container.Config{
		Image: testbed.ServerImage(t), Labels: map[string]string{"com.docker.compose.project": other, "com.docker.compose.service": "web",
			"com.docker.compose.project.working_dir": "/somewhere/" + other, "com.docker.compose.oneoff": "False"}}})
	if err != nil {
		t.Fatal(err)
	}
	c.ContainerStart(context.Background(), ct.ID, client.ContainerStartOptions{})
	r = h.must("ls", "--format", "json")
	if !strings.Contains(r.stdout, `"Name":"sertantai-enforcement","Status":"running(3)"`) || !strings.Contains(r.stdout, `"Name":"`+other+`","Status":"running(1)"`) || !strings.Contains(r.stdout, "/somewhere/"+other) {
		t.Fatalf("ls:\n%s", r.stdout)
	}

	// ports markdown shows the project's row.
	r = h.must("ports", "--format", "markdown")
	if !strings.Contains(r.stdout, "| **sertantai-enforcement** | 4002 | 5173 | 5434 | 3001 | 6380 | Ash + ElectricSQL + SvelteKit |") {
		t.Fatalf("markdown:\n%s", r.stdout)
	}
	h.must("down")
}

func TestIntegrationEnvRefusesSymlinks(t *testing.T) {
	h := newHarness(t)
	testbed.Engine(t)
	h.write("docker-compose.dev.yml", `name: envsym
x-devenv:
  host:
    api: {port: 4555}
  env_files:
    web/.env:
      API: "http://localhost:{api}"
    link/.env:
      API: "http://localhost:{api}"
services: {}
`)
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(h.dir, "web"), 0o755)
	target := filepath.Join(outside, "victim")
	os.WriteFile(target, []byte("untouched\n"), 0o644)
	os.Symlink(target, filepath.Join(h.dir, "web", ".env"))
	r := h.run("env")
	if r.code != 2 || !strings.Contains(r.stderr, "symlink") {
		t.Fatalf("want exit 2 refusing the symlink:\n%s", r)
	}
	if mustRead(t, target) != "untouched\n" {
		t.Fatal("wrote through a symlink")
	}
	// A directory symlink pointing outside the project is refused too.
	os.Remove(filepath.Join(h.dir, "web", ".env"))
	os.Symlink(outside, filepath.Join(h.dir, "link"))
	r = h.run("env")
	if r.code != 2 || !strings.Contains(r.stderr, "outside the project") {
		t.Fatalf("want exit 2 for a directory outside the project:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(outside, ".env")); err == nil {
		t.Fatal("wrote outside the project")
	}
}

// TestIntegrationReferenceCommands runs the reference document's own
// commands with devenv in place of docker compose.
func TestIntegrationReferenceCommands(t *testing.T) {
	h, c := exampleHarness(t)
	r := h.must("-f", "docker-compose.dev.yml", "up", "-d", "postgres", "electric", "redis")
	if ids := containerIDs(t, c, "sertantai-enforcement"); len(ids) != 3 {
		t.Fatalf("up -d postgres electric redis: containers %v\n%s", ids, r)
	}
	h.must("-f", "docker-compose.dev.yml", "up", "-d", "--wait", "--wait-timeout", "60", "postgres")
	h.must("-f", "docker-compose.dev.yml", "down")
	if ids := containerIDs(t, c, "sertantai-enforcement"); len(ids) != 0 {
		t.Fatalf("down left %v", ids)
	}
}

// TestIntegrationExampleFullStack: one up brings the whole example stack,
// the host services too (stand-ins here, labelled as such), all healthy;
// down leaves nothing running.
func TestIntegrationExampleFullStack(t *testing.T) {
	h, c := exampleHarness(t)
	t.Cleanup(func() { h.run("down") })
	r := h.must("up", "--progress", "plain")
	if h.run("health").code != 0 {
		t.Fatalf("health after a full up:\n%s\n%s", h.run("health"), r.stderr)
	}
	for port, want := range map[int]string{4002: "stand-in for mix phx.server", 5173: "stand-in for npm run dev"} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatalf("port %d: %v", port, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Fatalf("port %d answers %q", port, b)
		}
	}
	if logs := h.must("logs", "backend").stdout; !strings.Contains(logs, "running the stand-in for mix phx.server") {
		t.Fatalf("the stand-in is not labelled in the log:\n%s", logs)
	}
	h.must("down")
	if ids := containerIDs(t, c, "sertantai-enforcement"); len(ids) != 0 {
		t.Fatalf("containers left: %v", ids)
	}
	for _, p := range []int{4002, 5173} {
		if listening(p) {
			t.Fatalf("port %d still served after down", p)
		}
	}
}
