package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// twoServices is a web service depending on a healthy api service, both
// the FROM-scratch test server.
func twoServices(image, project string, apiPort, webPort int, extraEnv string) string {
	return fmt.Sprintf(`name: %s
services:
  api:
    image: %s
    environment:
      LISTEN: "8080"
      START_DELAY: 300ms%s
    ports: ["%d:8080"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "/testserver", "health", "http://127.0.0.1:8080/healthz"]
      interval: 5s
      timeout: 2s
      retries: 3
  web:
    image: %s
    ports: ["%d:8080"]
    depends_on:
      api: {condition: service_healthy}
volumes:
  data:
`, project, image, extraEnv, apiPort, image, webPort)
}

func containerIDs(t *testing.T, c *client.Client, project string) map[string]string {
	t.Helper()
	res, err := c.ContainerList(context.Background(), client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ct := range res.Items {
		out[ct.Labels["com.docker.compose.service"]] = ct.ID
	}
	return out
}

func TestIntegrationLifecycle(t *testing.T) {
	c, image, h, project := serverProject(t)
	apiPort, webPort := freePort(t), freePort(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, apiPort, webPort, ""))

	r := h.must("up")
	if code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", webPort)); code != 200 || !strings.Contains(body, "testserver ok") {
		t.Fatalf("web not serving after up: %d %q\n%s", code, body, r)
	}
	first := containerIDs(t, c, project)
	if len(first) != 2 {
		t.Fatalf("want 2 containers, got %v", first)
	}

	// --dry-run prints the plan and changes nothing.
	r = h.must("up", "--dry-run")
	if r.stdout != fmt.Sprintf("keep api (%s-api-1): up to date\nkeep web (%s-web-1): up to date\n", project, project) {
		t.Fatalf("dry-run plan:\n%s", r)
	}
	// A second up changes nothing.
	r = h.must("up")
	if got := containerIDs(t, c, project); fmt.Sprint(got) != fmt.Sprint(first) {
		t.Fatalf("second up recreated containers: %v → %v\n%s", first, got, r)
	}

	// Data written into the named volume survives down and up.
	if code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/write?name=keep&content=precious", apiPort)); code != 200 {
		t.Fatalf("write: %d %s", code, body)
	}
	h.must("down")
	if ids := containerIDs(t, c, project); len(ids) != 0 {
		t.Fatalf("down left containers: %v", ids)
	}
	h.must("up")
	if code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/read?name=keep", apiPort)); code != 200 || body != "precious" {
		t.Fatalf("data lost across down/up: %d %q", code, body)
	}
	h.must("up", "--force-recreate")
	if code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/read?name=keep", apiPort)); code != 200 || body != "precious" {
		t.Fatalf("data lost across --force-recreate: %d %q", code, body)
	}

	// Editing one service's environment recreates only that service.
	before := containerIDs(t, c, project)
	h.write("docker-compose.dev.yml", twoServices(image, project, apiPort, webPort, "\n      EXTRA: changed"))
	r = h.must("up")
	after := containerIDs(t, c, project)
	if after["api"] == before["api"] || after["web"] != before["web"] {
		t.Fatalf("edit of api: want only api recreated: %v → %v\n%s", before, after, r)
	}

	// stop/start keep container IDs.
	h.must("stop")
	if listening(webPort) {
		t.Fatal("web still listening after stop")
	}
	h.must("start")
	if got := containerIDs(t, c, project); fmt.Sprint(got) != fmt.Sprint(after) {
		t.Fatalf("stop/start changed IDs: %v → %v", after, got)
	}

	// restart keeps the container and starts it again.
	startedAt := func() string {
		ins, err := c.ContainerInspect(context.Background(), project+"-web-1", client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return ins.Container.State.StartedAt
	}
	beforeRestart := startedAt()
	h.must("restart", "web")
	if got := containerIDs(t, c, project); got["web"] != after["web"] || startedAt() == beforeRestart || !listening(webPort) {
		t.Fatalf("restart web: IDs %v, started %s → %s", got, beforeRestart, startedAt())
	}

	// logs -f follows until interrupted.
	fctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	r = h.runCtx(fctx, "logs", "-f", "web")
	cancel()
	if !strings.Contains(r.stdout, "web-1  | testserver: listening on 8080") {
		t.Fatalf("logs -f:\n%s", r)
	}

	// ps shows both, in table and JSON.
	r = h.must("ps")
	if !strings.Contains(r.stdout, project+"-api-1") || !strings.Contains(r.stdout, fmt.Sprintf("127.0.0.1:%d->8080/tcp", apiPort)) {
		t.Fatalf("ps table:\n%s", r)
	}
	r = h.must("ps", "--format", "json")
	if n := strings.Count(r.stdout, "\n"); n != 2 || !strings.Contains(r.stdout, `"Publishers":[{"URL":"127.0.0.1","TargetPort":8080`) {
		t.Fatalf("ps json:\n%s", r)
	}
	r = h.must("logs", "--tail", "5", "api")
	if !strings.Contains(r.stdout, "api-1  | testserver: listening on 8080") {
		t.Fatalf("logs:\n%s", r)
	}

	// down keeps the named volume; down -v removes it.
	h.must("down")
	vols, _ := c.VolumeList(context.Background(), client.VolumeListOptions{Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project)})
	if len(vols.Items) != 1 {
		t.Fatalf("down removed the volume: %v", vols.Items)
	}
	// down -v removes the named volume and the anonymous ones of its
	// containers (web's image VOLUME /data).
	h.must("up")
	ins, err := c.ContainerInspect(context.Background(), project+"-web-1", client.ContainerInspectOptions{})
	if err != nil || len(ins.Container.Mounts) != 1 {
		t.Fatalf("web mounts: %v %v", err, ins.Container.Mounts)
	}
	anon := ins.Container.Mounts[0].Name
	h.must("down", "-v")
	vols, _ = c.VolumeList(context.Background(), client.VolumeListOptions{Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project)})
	if len(vols.Items) != 0 {
		t.Fatalf("down -v kept the volume: %v", vols.Items)
	}
	if _, err := c.VolumeInspect(context.Background(), anon, client.VolumeInspectOptions{}); err == nil {
		t.Fatalf("down -v kept web's anonymous volume %s", anon)
	}
}

// TestIntegrationDownByNameWithoutFile: like docker compose -p NAME down,
// ps and down work by project name where there is no compose file.
func TestIntegrationDownByNameWithoutFile(t *testing.T) {
	c, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	h.must("up", "--no-wait")
	elsewhere := newHarness(t)
	r := elsewhere.must("-p", project, "ps")
	if !strings.Contains(r.stdout, project+"-api-1") || !strings.Contains(r.stdout, project+"-web-1") {
		t.Fatalf("ps by name:\n%s", r)
	}
	if r := elsewhere.run("ps"); r.code != 2 {
		t.Fatalf("ps without -p and without a file must fail with exit 2:\n%s", r)
	}
	elsewhere.must("-p", project, "down")
	if ids := containerIDs(t, c, project); len(ids) != 0 {
		t.Fatalf("down by name left containers: %v", ids)
	}
	vols, _ := c.VolumeList(context.Background(), client.VolumeListOptions{Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project)})
	if len(vols.Items) != 1 {
		t.Fatalf("down by name must keep the volume: %v", vols.Items)
	}
}

// TestIntegrationShortBindCreatesHostPath: `./pgdata:/data` with no pgdata
// directory works as in compose: the engine creates it.
func TestIntegrationShortBindCreatesHostPath(t *testing.T) {
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", fmt.Sprintf("name: %s\nservices:\n  web:\n    image: %s\n    environment: {LISTEN: \"8080\"}\n    volumes: [\"./pgdata:/data\"]\n", project, image))
	h.must("up")
	if st, err := os.Stat(filepath.Join(h.dir, "pgdata")); err != nil || !st.IsDir() {
		t.Fatalf("the host path was not created: %v", err)
	}
	h.must("down")
}
