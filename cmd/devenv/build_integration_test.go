package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/moby/moby/client"
)

// buildProject writes a project whose images are built: app FROM scratch
// with a static Go server (multi-stage, args, target, labels,
// .dockerignore), inline from dockerfile_inline, deb FROM the Debian image
// the tests build (with RUN), two services sharing one built image, and a
// broken one behind a profile.
func buildProject(t *testing.T, h *harness, project string, port int) {
	t.Helper()
	bin := filepath.Join(h.dir, "app", "server")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/testserver")
	cmd.Dir, cmd.Env = testbed.Root(), append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the server: %v\n%s", err, out)
	}
	h.write("app/Dockerfile", `FROM scratch AS base
COPY server /server
COPY . /ctx/
FROM base AS final
ARG GREETING=unset
ENV GREETING=$GREETING
CMD ["/server"]
FROM base AS other
ENV STAGE=other
`)
	h.write("app/.dockerignore", "secret.txt\nnotes/\n")
	h.write("app/secret.txt", "not for the image")
	h.write("app/notes/n.md", "n")
	h.write("app/kept.txt", "kept")
	h.write("deb/Dockerfile", "FROM devenv-base:bookworm\nARG WHO\nRUN echo \"built by $WHO\" > /built.txt\nCMD [\"sleep\", \"infinity\"]\n")
	h.write("broken/Dockerfile", "FROM devenv-base:bookworm\nRUN echo about to fail && exit 3\n")
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  app:
    build:
      context: ./app
      target: final
      args: {GREETING: hello}
      labels: {dev.example.team: core}
    environment: {LISTEN: "8080"}
    ports: ["%d:8080"]
  inline:
    build:
      context: ./app
      dockerfile_inline: |
        FROM scratch
        COPY server /server
        CMD ["/server"]
    environment: {LISTEN: "8080"}
  deb:
    build:
      context: ./deb
      args: [WHO]
    image: %s-deb:dev
  deb2:
    image: %s-deb:dev
    build: ./deb
    command: ["sleep", "infinity"]
  broken:
    build: ./broken
    profiles: [broken]
    ports: ["%d:80"]
`, project, port, project, project, port+1))
	h.write(".env", "WHO=the test\n")
}

// TestIntegrationBuild builds through the Engine API as compose does and
// checks what the images hold, that a failed build changes nothing, that
// the cache is used, and that compose takes devenv's images as its own.
func TestIntegrationBuild(t *testing.T) {
	composeV2(t)
	c := testbed.Engine(t)
	testbed.RequireImages(t, "devenv-base:bookworm")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	ctx := context.Background()
	t.Cleanup(func() {
		for _, im := range []string{project + "-app", project + "-inline", project + "-deb:dev"} {
			c.ImageRemove(context.Background(), im, client.ImageRemoveOptions{Force: true})
		}
	})
	port := freePort(t)
	buildProject(t, h, project, port)

	r := h.run("up", "--progress", "plain")
	if r.code != 0 {
		t.Fatalf("up: %s", r)
	}
	if strings.Count(r.stderr, "Built") != 3 {
		t.Fatalf("app, inline and the shared deb image are built once each:\n%s", r.stderr)
	}
	ins, err := c.ImageInspect(ctx, project+"-app")
	if err != nil {
		t.Fatal(err)
	}
	cfg := ins.Config
	if !strings.Contains(strings.Join(cfg.Env, " "), "GREETING=hello") || cfg.Labels["dev.example.team"] != "core" || cfg.Labels["com.docker.compose.image.builder"] != "classic" {
		t.Fatalf("app image: env %v labels %v", cfg.Env, cfg.Labels)
	}
	if strings.Contains(strings.Join(cfg.Env, " "), "STAGE=other") {
		t.Fatal("target: the other stage was built")
	}
	// .dockerignore: what it names never reached the engine.
	if r := h.run("cp", "app:/ctx/secret.txt", filepath.Join(h.dir, "x")); r.code == 0 {
		t.Fatal(".dockerignore: secret.txt was sent")
	}
	if r := h.run("cp", "app:/ctx/notes", filepath.Join(h.dir, "y")); r.code == 0 {
		t.Fatal(".dockerignore: notes/ was sent")
	}
	h.must("cp", "app:/ctx/kept.txt", filepath.Join(h.dir, "kept.back"))
	if got := strings.TrimSpace(h.runStdin("", "exec", "-T", "deb", "cat", "/built.txt").stdout); got != "built by the test" {
		t.Fatalf("deb: RUN with an arg from the environment gave %q", got)
	}
	if !listening(port) {
		t.Fatalf("app does not answer on %d", port)
	}

	// The cache: building again changes no image.
	before, _ := c.ImageInspect(ctx, project+"-deb:dev")
	h.must("build", "deb")
	after, _ := c.ImageInspect(ctx, project+"-deb:dev")
	if before.ID != after.ID {
		t.Fatalf("a second build without changes made a new image: %s → %s", before.ID, after.ID)
	}

	// compose takes devenv's images and containers as its own.
	ids := containerIDs(t, c, project)
	out, err := runCompose(t, h.dir, []string{"COMPOSE_FILE=docker-compose.dev.yml"}, "up", "-d")
	if err != nil {
		t.Fatal(err, out)
	}
	if got := containerIDs(t, c, project); fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("compose up -d recreated after devenv up: %v → %v", ids, got)
	}

	// A failed build names the service and step, exits 1, and creates or
	// reserves nothing.
	r = h.run("--profile", "broken", "up", "broken")
	if r.code != 1 || !strings.Contains(r.stderr, "service broken: build failed at Step 2/3 : RUN echo about to fail && exit 3") || !strings.Contains(r.stderr, "about to fail") {
		t.Fatalf("a failed build: %s", r)
	}
	if _, err := c.ContainerInspect(ctx, project+"-broken-1", client.ContainerInspectOptions{}); err == nil {
		t.Fatal("a failed build created the container")
	}
	if reg, _ := os.ReadFile(h.registry); strings.Contains(string(reg), fmt.Sprint(port+1)) {
		t.Fatalf("a failed build reserved its port:\n%s", reg)
	}
	// The classic builder refuses what only BuildKit does, by name.
	h.write("docker-compose.dev.yml", strings.Replace(mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml")), "      target: final\n", "      target: final\n      secrets: [token]\n", 1)+"secrets:\n  token: {file: ./app/kept.txt}\n")
	if r = h.run("build", "app"); r.code != 2 || !strings.Contains(r.stderr, "secrets") {
		t.Fatalf("build secrets on the classic builder: %s", r)
	}
	h.must("down")
}

// TestIntegrationBuildRoundTripAndCancel: an image docker compose built is
// used by devenv up as it is, and Ctrl-C during a build stops it, exit 130.
func TestIntegrationBuildRoundTripAndCancel(t *testing.T) {
	composeV2(t)
	c := testbed.Engine(t)
	testbed.RequireImages(t, "devenv-base:bookworm")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	ctx := context.Background()
	t.Cleanup(func() {
		for _, im := range []string{project + "-slow", project + "-deb:dev"} {
			c.ImageRemove(context.Background(), im, client.ImageRemoveOptions{Force: true})
		}
	})
	h.write("deb/Dockerfile", "FROM devenv-base:bookworm\nRUN echo compose > /who\nCMD [\"sleep\", \"infinity\"]\n")
	h.write("slow/Dockerfile", "FROM devenv-base:bookworm\nRUN sleep 60\n")
	h.write("docker-compose.dev.yml", fmt.Sprintf("name: %s\nservices:\n  deb:\n    build: ./deb\n    image: %s-deb:dev\n  slow:\n    build: ./slow\n    profiles: [slow]\n", project, project))
	if out, err := runCompose(t, h.dir, []string{"COMPOSE_FILE=docker-compose.dev.yml"}, "build", "deb"); err != nil {
		t.Fatal(err, out)
	}
	built, _ := c.ImageInspect(ctx, project+"-deb:dev")
	r := h.must("up", "--progress", "plain")
	if strings.Contains(r.stderr, "Building") {
		t.Fatalf("devenv built an image compose had built:\n%s", r.stderr)
	}
	ins, err := c.ContainerInspect(ctx, project+"-deb-1", client.ContainerInspectOptions{})
	if err != nil || ins.Container.Image != built.ID {
		t.Fatalf("the container's image %v, compose built %s (%v)", ins.Container.Image, built.ID, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(3 * time.Second); cancel() }()
	start := time.Now()
	if r = h.runCtx(cctx, "build", "slow"); r.code != 130 || time.Since(start) > 30*time.Second {
		t.Fatalf("Ctrl-C during a build: %s (after %s)", r, time.Since(start))
	}
	if _, err := c.ImageInspect(ctx, project+"-slow"); err == nil {
		t.Fatal("the interrupted build left an image")
	}
	h.must("down")
}
