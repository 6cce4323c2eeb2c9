package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// referenceTable is the reference document's "Cross-Project Port Map".
// referenceTable is the reference document's port map, with the Redis
// column a reserved Redis brings (the document's table has none).
const referenceTable = `| Project | Backend | Frontend | DB | Electric | Redis | Stack |
|---------|---------|----------|-----|----------|-------|-------|
| **sertantai-auth** | 4000 | N/A | 5432 | N/A | N/A | Phoenix (no Ash) |
| **sertantai-controls** | 4001 | 5174 | 5435 | 3000 | N/A | Ash + ElectricSQL + SvelteKit |
| **sertantai-enforcement** | 4002 | 5173 | 5434 | 3001 | 6380 | Ash + ElectricSQL + SvelteKit |
`

// referenceProjects copies the reference projects into one temporary tree
// sharing one registry, and registers the first three.
func referenceProjects(t *testing.T) (root string, at func(project string) *harness) {
	t.Helper()
	testbed.Engine(t)
	root = t.TempDir()
	registry := filepath.Join(t.TempDir(), "registry.yaml")
	home := t.TempDir()
	at = func(project string) *harness {
		dir := filepath.Join(root, project)
		os.MkdirAll(dir, 0o755)
		src := filepath.Join(testbed.Root(), "testdata", "reference", project, "docker-compose.dev.yml")
		os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte(mustRead(t, src)), 0o644)
		h := &harness{t: t, dir: dir, registry: registry,
			env: []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "DEVENV_REGISTRY=" + registry, "PWD=" + dir, "DEVENV_PROXY=off"}}
		return h
	}
	for _, p := range []string{"sertantai-auth", "sertantai-controls", "sertantai-enforcement"} {
		for _, port := range []int{4000, 4001, 4002, 5173, 5174, 5432, 5434, 5435, 3000, 3001} {
			if listening(port) {
				t.Skipf("port %d is busy on this machine", port)
			}
		}
		at(p).must("ports", "assign")
	}
	return root, at
}

func TestIntegrationReferencePortMap(t *testing.T) {
	_, at := referenceProjects(t)
	h := at("sertantai-enforcement")
	r := h.must("ports", "--format", "markdown")
	if r.stdout != referenceTable {
		t.Fatalf("port map:\n%s\nwant:\n%s", r.stdout, referenceTable)
	}
	r = h.must("ports", "check")
	if !strings.Contains(r.stdout, "no port conflicts") {
		t.Fatal(r)
	}
	r = h.must("ports", "--format", "json")
	if n := strings.Count(r.stdout, "\n"); n != 11 || !strings.Contains(r.stdout, `"project":"sertantai-controls","directory":`) || !strings.Contains(r.stdout, `"holder":"free"`) {
		t.Fatalf("ports json (%d rows):\n%s", n, r.stdout)
	}

	// A fourth project asking for 5434/3000/6380 gets 5436/3002/6381.
	four := at("fourth")
	r = four.run("ports", "assign", "--strict-ports")
	if r.code != 3 || !strings.Contains(r.stderr, "reserved by sertantai") {
		t.Fatalf("--strict-ports must fail with exit 3 naming the owner:\n%s", r)
	}
	r = four.must("ports", "assign")
	for _, want := range []string{"5436/tcp", "3002/tcp", "6381/tcp"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("fourth project lacks %s:\n%s", want, r)
		}
	}
	if !strings.Contains(r.stderr, "postgres 5434 → 5436: 5434 is reserved by sertantai-enforcement") {
		t.Errorf("remap not reported:\n%s", r.stderr)
	}
	r = four.must("config", "--format", "json")
	if !strings.Contains(r.stdout, `"published": "5436"`) || strings.Contains(r.stdout, `"published": "5434"`) {
		t.Errorf("config must show the assigned port:\n%s", r.stdout)
	}
	r = four.must("port", "redis", "6379")
	if strings.TrimSpace(r.stdout) != "127.0.0.1:6381" {
		t.Errorf("port before up: %q", r.stdout)
	}
	r = four.must("ports", "why", "5434")
	if !strings.Contains(r.stdout, "reserved by sertantai-enforcement (service postgres)") {
		t.Errorf("why:\n%s", r.stdout)
	}
	four.must("ports", "release")
	r = h.must("ports")
	if strings.Contains(r.stdout, "fourth") {
		t.Errorf("release kept the project:\n%s", r.stdout)
	}

	// The same name from another directory is refused.
	other := at("sertantai-auth")
	other.dir = t.TempDir()
	os.WriteFile(filepath.Join(other.dir, "docker-compose.dev.yml"), []byte(mustRead(t, filepath.Join(testbed.Root(), "testdata", "reference", "sertantai-auth", "docker-compose.dev.yml"))), 0o644)
	other.env[len(other.env)-1] = "PWD=" + other.dir
	r = other.run("ports", "assign")
	if r.code != 2 || !strings.Contains(r.stderr, "already used by") || !strings.Contains(r.stderr, "-p NAME") {
		t.Fatalf("same name elsewhere:\n%s", r)
	}
}

// TestIntegrationHostProcessHoldsPort: a port held by a plain process is
// found before any container is created, named with its pid.
func TestIntegrationHostProcessHoldsPort(t *testing.T) {
	c, image, h, project := serverProject(t)
	port := freePort(t)
	// A separate process, not this test, holds the port.
	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), fmt.Sprintf("DEVENV_TEST_HOLD_PORT=%d", port))
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	buf := make([]byte, 3)
	out.Read(buf)
	h.write("docker-compose.dev.yml", fmt.Sprintf("name: %s\nservices:\n  web:\n    image: %s\n    ports: [\"%d:8080\"]\n", project, image, port))
	r := h.run("up", "--strict-ports")
	if r.code != 3 || !strings.Contains(r.stderr, "process "+strconv.Itoa(holder.Process.Pid)) || !strings.Contains(r.stderr, filepath.Base(os.Args[0])) {
		t.Fatalf("want exit 3 naming pid %d:\n%s", holder.Process.Pid, r)
	}
	if ids := containerIDs(t, c, project); len(ids) != 0 {
		t.Fatalf("containers created despite the conflict: %v", ids)
	}
	r = h.must("ports", "why", strconv.Itoa(port))
	if !strings.Contains(r.stdout, "process "+strconv.Itoa(holder.Process.Pid)) {
		t.Fatalf("why:\n%s", r.stdout)
	}
	// Without --strict-ports the service moves and the move is reported.
	r = h.must("up", "--progress", "plain")
	if !strings.Contains(r.stderr, fmt.Sprintf("web %d → ", port)) {
		t.Fatalf("remap not reported:\n%s", r.stderr)
	}
	// The assignment is sticky; once the holder is gone and another takes
	// the new port, up fails naming it (exit 3).
	h.must("down")
}

// TestIntegrationContainerOfOtherProjectHoldsPort names the container and its
// compose project.
func TestIntegrationContainerOfOtherProjectHoldsPort(t *testing.T) {
	c := testbed.Engine(t)
	image := testbed.ServerImage(t)
	h := newHarness(t)
	project, other := projectName(t), projectName(t)
	cleanupProject(t, c, project)
	cleanupProject(t, c, other)
	port := freePort(t)
	pb, _ := network.ParsePort("8080/tcp")
	ct, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{Name: other + "-db-1",
		Config:     &container.Config{Image: image, Labels: map[string]string{"com.docker.compose.project": other, "com.docker.compose.service": "db"}, ExposedPorts: network.PortSet{pb: {}}},
		HostConfig: &container.HostConfig{PortBindings: network.PortMap{pb: []network.PortBinding{{HostPort: strconv.Itoa(port)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerStart(context.Background(), ct.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	h.write("docker-compose.dev.yml", fmt.Sprintf("name: %s\nservices:\n  web:\n    image: %s\n    ports: [\"%d:8080\"]\n", project, image, port))
	r := h.run("up", "--strict-ports")
	if r.code != 3 || !strings.Contains(r.stderr, "container "+other+"-db-1 of compose project "+other) {
		t.Fatalf("want exit 3 naming the container and project:\n%s", r)
	}
	if ids := containerIDs(t, c, project); len(ids) != 0 {
		t.Fatalf("containers created despite the conflict: %v", ids)
	}
	// A sticky assignment that something else takes later fails up.
	port2 := freePort(t)
	h.write("docker-compose.dev.yml", fmt.Sprintf("name: %s\nservices:\n  web:\n    image: %s\n    ports: [\"%d:8080\"]\n", project, image, port2))
	h.must("ports", "assign")
	ln, err := net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", port2))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r = h.run("up")
	if r.code != 3 || !strings.Contains(r.stderr, "assigned port "+strconv.Itoa(port2)) || !strings.Contains(r.stderr, "--reassign web") {
		t.Fatalf("sticky conflict:\n%s", r)
	}
	r = h.run("ports", "check")
	if r.code != 0 {
		// The registry has this project's reservation held by this test
		// process: check reports it with exit 3.
		if r.code != 3 || !strings.Contains(r.stdout, strconv.Itoa(port2)) {
			t.Fatalf("ports check:\n%s", r)
		}
	}
}
