package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func TestIntegrationNeverHealthyFailsWithinTimeout(t *testing.T) {
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  sick:
    image: %s
    environment: {UNHEALTHY: "1"}
    healthcheck:
      test: ["CMD", "/testserver", "health", "http://127.0.0.1:8080/healthz"]
      interval: 1s
      retries: 100
`, project, image))
	start := time.Now()
	r := h.run("up", "--wait-timeout", "3s")
	if r.code != 1 {
		t.Fatalf("want exit 1:\n%s", r)
	}
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Fatalf("took %s with --wait-timeout 3s", elapsed)
	}
	for _, want := range []string{"service sick", "did not become healthy", "HTTP 500", "last log lines of sick"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestIntegrationExitAtOnceReportsCodeAndLogs(t *testing.T) {
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  crash:
    image: %s
    environment: {EXIT_CODE: "3"}
`, project, image))
	r := h.run("up")
	if r.code != 1 {
		t.Fatalf("want exit 1:\n%s", r)
	}
	for _, want := range []string{"service crash exited", "exit code 3", "testserver: exiting at once with code 3"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestIntegrationForeignContainerNameLeftAlone(t *testing.T) {
	c, image, h, project := serverProject(t)
	name := project + "_taken"
	created, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{Name: name, Config: &container.Config{Image: image}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  a:
    image: %s
  b:
    image: %s
    container_name: %s
`, project, image, image, name))
	r := h.run("up")
	if r.code != 2 || !strings.Contains(r.stderr, name) || !strings.Contains(r.stderr, "leaves it alone") {
		t.Fatalf("want exit 2 naming %s:\n%s", name, r)
	}
	if ids := containerIDs(t, c, project); len(ids) != 0 {
		t.Fatalf("containers were created before the clash was found: %v", ids)
	}
	ins, err := c.ContainerInspect(context.Background(), created.ID, client.ContainerInspectOptions{})
	if err != nil || ins.Container.Name != "/"+name {
		t.Fatalf("foreign container changed: %v %v", err, ins.Container.Name)
	}
	h.must("down")
	if _, err := c.ContainerInspect(context.Background(), created.ID, client.ContainerInspectOptions{}); err != nil {
		t.Fatalf("down removed the foreign container: %v", err)
	}
}

func TestIntegrationStopTimeoutKills(t *testing.T) {
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  stubborn:
    image: %s
    environment: {IGNORE_SIGTERM: "1"}
`, project, image))
	h.must("up")
	r := h.must("down", "-t", "1", "--progress", "plain")
	if !strings.Contains(r.stderr, "Killed") || !strings.Contains(r.stderr, project+"-stubborn-1") || !strings.Contains(r.stderr, "SIGKILL") {
		t.Fatalf("down must say which container was killed:\n%s", r)
	}
}

// TestIntegrationInterruptedUp sends SIGINT to a real devenv process in the
// middle of up: exit 130, no unlabelled container, and the next up converges.
func TestIntegrationInterruptedUp(t *testing.T) {
	c, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  slow:
    image: %s
    environment: {START_DELAY: 30s}
    healthcheck:
      test: ["CMD", "/testserver", "health", "http://127.0.0.1:8080/healthz"]
      interval: 1s
      retries: 100
  after:
    image: %s
    depends_on:
      slow: {condition: service_healthy}
`, project, image, image))
	cmd, errb := startDevenv(t, h, "Waiting for health", "up", "--progress", "plain")
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v\n%s", err, errb.String())
	}
	assertOnlyLabelled(t, c, project)
	// The next up converges (with a fast start now).
	h.write("docker-compose.dev.yml", strings.Replace(mustRead(t, h.dir+"/docker-compose.dev.yml"), "30s", "10ms", 1))
	h.must("up")
	if ids := containerIDs(t, c, project); len(ids) != 2 {
		t.Fatalf("second up did not converge: %v", ids)
	}
}

// syncBuffer is a buffer a child process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var devenvBin string

// buildDevenv builds the devenv binary once per test run.
func buildDevenv(t testing.TB) string {
	t.Helper()
	if devenvBin != "" {
		return devenvBin
	}
	dir, err := os.MkdirTemp("", "devenv-bin")
	if err != nil {
		t.Fatal(err)
	}
	bin := dir + "/devenv"
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/devenv")
	cmd.Dir = testbed.Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build devenv: %v\n%s", err, out)
	}
	devenvBin = bin
	return bin
}

// TestIntegrationPortTakenBetweenCheckAndStart: the port is free when up
// checks it and taken before the container starts. up reports the service
// and port, leaves only labelled resources, and the next up converges.
func TestIntegrationPortTakenBetweenCheckAndStart(t *testing.T) {
	c, image, h, project := serverProject(t)
	port := freePort(t)
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  slow:
    image: %s
    environment: {START_DELAY: 4s}
    healthcheck:
      test: ["CMD", "/testserver", "health", "http://127.0.0.1:8080/healthz"]
      interval: 1s
      retries: 30
  web:
    image: %s
    ports: ["%d:8080"]
    depends_on:
      slow: {condition: service_healthy}
`, project, image, image, port))
	cmd, errb := startDevenv(t, h, "Waiting for health", "up", "--progress", "plain")
	// Checked and reserved; now something else grabs the port.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	ln.Close()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("a port taken at start is a port conflict: want exit 3, got %v:\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "service web") || !strings.Contains(errb.String(), fmt.Sprint(port)) {
		t.Fatalf("the failure must name the service and port:\n%s", errb.String())
	}
	assertOnlyLabelled(t, c, project)
	r := h.must("up")
	if !listening(port) {
		t.Fatalf("the next up did not converge:\n%s", r)
	}
}

// TestIntegrationDependencyRestart: depends_on restart: true restarts a kept
// dependant when its dependency is recreated.
func TestIntegrationDependencyRestart(t *testing.T) {
	c, image, h, project := serverProject(t)
	file := func(v string) string {
		return fmt.Sprintf(`name: %s
services:
  db:
    image: %s
    environment: {V: "%s"}
  app:
    image: %s
    depends_on:
      db: {condition: service_started, restart: true}
`, project, image, v, image)
	}
	h.write("docker-compose.dev.yml", file("1"))
	h.must("up")
	started := func() string {
		ins, err := c.ContainerInspect(context.Background(), project+"-app-1", client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return ins.Container.ID + " " + ins.Container.State.StartedAt
	}
	before := started()
	h.write("docker-compose.dev.yml", file("2"))
	r := h.must("up", "--progress", "plain")
	after := started()
	if strings.Fields(before)[0] != strings.Fields(after)[0] || before == after || !strings.Contains(r.stderr, "Restarting dependency db will be recreated") {
		t.Fatalf("app must be restarted, not recreated: %s → %s\n%s", before, after, r.stderr)
	}
}

// TestIntegrationConcurrentAssign runs 16 devenv processes assigning ports
// in 16 projects at once: all succeed with distinct ports.
func TestIntegrationConcurrentAssign(t *testing.T) {
	testbed.Engine(t)
	bin := buildDevenv(t)
	registry := filepath.Join(t.TempDir(), "registry.yaml")
	root := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := 0; i < 16; i++ {
		dir := filepath.Join(root, fmt.Sprintf("p%02d", i))
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte("services:\n  db:\n    image: postgres:15\n    ports: [\"5434:5432\"]\n  cache:\n    image: redis:7\n    ports: [\"6380:6379\"]\n"), 0o644)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "--registry", registry, "ports", "assign")
			cmd.Dir = dir
			cmd.Env = []string{"HOME=" + root, "PATH=" + os.Getenv("PATH"), "DEVENV_LOCK_TIMEOUT=60s", "DEVENV_PROXY=off"}
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Sprintf("%s: %v %s", dir, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	h := newHarness(t)
	h.env = append(h.env, "DEVENV_REGISTRY="+registry)
	r := h.must("ports", "--format", "json")
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row struct {
			Project string
			Port    int
		}
		json.Unmarshal([]byte(line), &row)
		key := fmt.Sprint(row.Port)
		if seen[key] {
			t.Fatalf("port %s given twice:\n%s", key, r.stdout)
		}
		seen[key] = true
	}
	if len(seen) != 32 {
		t.Fatalf("want 32 reservations, got %d:\n%s", len(seen), r.stdout)
	}
}
