package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

var hostServerBin built

// hostServer builds internal/testserver for this machine: a real process
// to run as a host service (it serves HTTP on $LISTEN, /healthz answers).
func hostServer(t *testing.T) string {
	return hostServerBin.get(t, "testserver", "./internal/testserver")
}

func hostFile(project, image, bin string, dbPort, backendPort, workerPort int, workerTag string) string {
	return fmt.Sprintf(`name: %s
x-devenv:
  host:
    backend:
      role: phoenix
      port: %d
      command: ["%s"]
      env: {LISTEN: "{backend}", DATABASE_URL: "ecto://postgres:postgres@localhost:{db}/app"}
      depends_on: {db: {condition: service_healthy}}
      health: "http://localhost:{backend}/healthz"
    worker:
      port: %d
      command: echo "%s PORT=$$PORT DB=$$DATABASE_URL"; (while true; do echo tick; sleep 0.2; done) & exec %s
      env: {LISTEN: "{worker}", DATABASE_URL: "ecto://localhost:{db}/app"}
      depends_on: [backend]
      stop_grace_period: 2s
services:
  db:
    image: %s
    environment: {LISTEN: "8080", START_DELAY: 500ms}
    ports: ["%d:8080"]
    healthcheck:
      test: ["CMD", "/testserver", "health", "http://127.0.0.1:8080/healthz"]
      interval: 5s
      retries: 30
`, project, backendPort, bin, workerPort, workerTag, bin, image, dbPort)
}

type hostRow struct {
	Name, Service, State, Status string
	PID                          int
	Host                         bool
}

func hostRows(t *testing.T, h *harness) map[string]hostRow {
	t.Helper()
	r := h.must("ps", "--format", "json")
	rows := map[string]hostRow{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row hostRow
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("ps json %q: %v", line, err)
		}
		if row.Host {
			rows[row.Service] = row
		}
	}
	return rows
}

// groupGone says the process group has ended within a few seconds (killed
// members linger as zombies until init reaps them).
func groupGone(pid int) bool {
	for range 100 {
		if syscall.Kill(-pid, 0) != nil {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestIntegrationHostServices: one up starts the containers and then the
// host services in dependency order, with PORT and templated env; an
// unchanged up keeps them, a changed command restarts only that one; logs
// follow them; ps shows them; down leaves no process behind.
func TestIntegrationHostServices(t *testing.T) {
	_, image, h, project := serverProject(t)
	bin := hostServer(t)
	dbPort, bePort, wkPort := freePort(t), freePort(t), freePort(t)
	h.write("docker-compose.dev.yml", hostFile(project, image, bin, dbPort, bePort, wkPort, "v1"))
	t.Cleanup(func() { h.run("down") })

	r := h.must("up", "--progress", "plain")
	healthy := strings.Index(r.stderr, "db ("+project+"-db-1) Healthy")
	starting := strings.Index(r.stderr, "backend (host) Starting")
	if healthy < 0 || starting < healthy {
		t.Fatalf("backend must start after db is healthy:\n%s", r.stderr)
	}
	if !listening(bePort) || !listening(wkPort) {
		t.Fatalf("host services not listening:\n%s", r.stderr)
	}
	rows := hostRows(t, h)
	be, wk := rows["backend"], rows["worker"]
	if be.State != "running" || be.PID == 0 || wk.PID == 0 || !strings.Contains(be.Status, "pid") {
		t.Fatalf("ps rows: %+v", rows)
	}
	logs := h.must("logs", "worker").stdout
	if !strings.Contains(logs, fmt.Sprintf("v1 PORT=%d DB=ecto://localhost:%d/app", wkPort, dbPort)) {
		t.Fatalf("worker did not see PORT and the templated env:\n%s", logs)
	}
	if fi, err := os.Stat(filepath.Join(h.home(), ".local", "state", "devenv", project, "worker.log")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file: %v %v", fi, err)
	}

	// Unchanged: both kept.
	r = h.must("up", "--progress", "plain")
	if rows2 := hostRows(t, h); rows2["backend"].PID != be.PID || rows2["worker"].PID != wk.PID {
		t.Fatalf("an unchanged up restarted host services: %+v → %+v\n%s", rows, rows2, r.stderr)
	}
	// Changed worker command: only the worker restarts.
	h.write("docker-compose.dev.yml", hostFile(project, image, bin, dbPort, bePort, wkPort, "v2"))
	r = h.must("up", "--dry-run")
	if !strings.Contains(r.stdout, "restart host worker") || !strings.Contains(r.stdout, "keep host backend") {
		t.Fatalf("dry run:\n%s", r.stdout)
	}
	h.must("up")
	rows2 := hostRows(t, h)
	if rows2["backend"].PID != be.PID || rows2["worker"].PID == wk.PID || !groupGone(wk.PID) {
		t.Fatalf("changed command: %+v → %+v", rows, rows2)
	}

	// logs -f follows a host service.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	code := runIn(ctx, h.dir, []string{"devenv", "logs", "-f", "--tail", "0", "worker"}, h.env, nil, &out, &out)
	if code != 0 && code != exitInterrupted || strings.Count(out.String(), "tick") < 3 {
		t.Fatalf("logs -f (exit %d):\n%s", code, out.String())
	}

	// down: every process of the project is gone, the forked loop too.
	r = h.must("down", "--progress", "plain")
	for _, pid := range []int{rows2["backend"].PID, rows2["worker"].PID} {
		if !groupGone(pid) {
			t.Fatalf("process group %d left after down:\n%s", pid, r.stderr)
		}
	}
	if listening(bePort) || listening(wkPort) {
		t.Fatal("ports still served after down")
	}
}

// TestIntegrationHostServiceFailures: a stranger on a host service's
// requested port moves it, as a container's would, and PORT, templates and
// env files follow; a command that exits is exit 1 with its last log lines.
func TestIntegrationHostServiceFailures(t *testing.T) {
	_, _, h, project := serverProject(t)
	bin := hostServer(t)
	bePort := freePort(t)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", bePort))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
x-devenv:
  host:
    api:
      port: %d
      command: ["%s"]
      env: {LISTEN: "{api}"}
      health: "http://localhost:{api}/healthz"
  env_files:
    web/.env: {API_URL: "http://localhost:{api}"}
`, project, bePort, bin))
	t.Cleanup(func() { h.run("down") })
	r := h.run("up")
	m := regexp.MustCompile(fmt.Sprintf(`api %d → (\d+): %d is held by process`, bePort, bePort)).FindStringSubmatch(r.stderr)
	if r.code != 0 || m == nil {
		t.Fatalf("a stranger on a host service's requested port: %s", r)
	}
	newPort, _ := strconv.Atoi(m[1])
	if got := strings.TrimSpace(h.must("port", "api", fmt.Sprint(bePort)).stdout); got != fmt.Sprintf("127.0.0.1:%d", newPort) {
		t.Fatalf("port api: %q", got)
	}
	env, _ := os.ReadFile(filepath.Join(h.dir, "web", ".env"))
	if !strings.Contains(string(env), fmt.Sprintf("API_URL=http://localhost:%d", newPort)) {
		t.Fatalf("env file does not follow the moved port:\n%s", env)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", newPort))
	if err != nil {
		t.Fatalf("the host service does not serve on its moved port: %v", err)
	}
	resp.Body.Close()
	h.must("down")
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
x-devenv:
  host:
    api: {port: %d, command: "echo cannot start: no mix here; exit 7"}
`, project, bePort))
	r = h.run("up")
	if r.code != 1 || !strings.Contains(r.stderr, "exit code 7") || !strings.Contains(r.stderr, "cannot start: no mix here") {
		t.Fatalf("a command that exits: %s", r)
	}
	h.must("down")
}

// TestIntegrationHostServiceSurvivesKilledUp: devenv SIGKILLed in the middle
// of up; the next up converges with one process per host service.
func TestIntegrationHostServiceSurvivesKilledUp(t *testing.T) {
	_, image, h, project := serverProject(t)
	bin := hostServer(t)
	dbPort, bePort, wkPort := freePort(t), freePort(t), freePort(t)
	h.write("docker-compose.dev.yml", hostFile(project, image, bin, dbPort, bePort, wkPort, "v1"))
	t.Cleanup(func() { h.run("down") })
	cmd, _ := startDevenv(t, h, "backend (host) Started pid", "up", "--progress", "plain")
	cmd.Process.Kill()
	cmd.Wait()
	if r := h.run("up"); r.code != 0 {
		st, _ := os.ReadFile(filepath.Join(h.home(), ".local", "state", "devenv", project, "worker.state.json"))
		lg, _ := os.ReadFile(filepath.Join(h.home(), ".local", "state", "devenv", project, "worker.log"))
		ps, _ := exec.Command("ps", "-eo", "pid,pgid,sid,lstart,args").Output()
		t.Fatalf("up after a killed up: %s\nstate: %s\nlog: %s\n%s", r, st, lg, grepLines(string(ps), "testserver"))
	}
	rows := hostRows(t, h)
	if rows["backend"].State != "running" || rows["worker"].State != "running" {
		t.Fatalf("after a killed up: %+v", rows)
	}
	out, _ := exec.Command("pgrep", "-f", "^"+bin+"$").Output()
	if n := len(strings.Fields(string(out))); n != 2 {
		t.Fatalf("%d host server processes, want 2 (backend, worker): %s", n, out)
	}
	h.must("down")
}

// TestIntegrationHostServicesConcurrentUp: two devenv processes bring one
// project up at once; each host service runs once.
func TestIntegrationHostServicesConcurrentUp(t *testing.T) {
	_, image, h, project := serverProject(t)
	bin := hostServer(t)
	dbPort, bePort, wkPort := freePort(t), freePort(t), freePort(t)
	h.write("docker-compose.dev.yml", hostFile(project, image, bin, dbPort, bePort, wkPort, "v1"))
	t.Cleanup(func() { h.run("down") })
	h.must("up", "db") // the container first, so the two ups race on the host services
	codes, outs := upAtOnce(t, h, 2, "up")
	if codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("concurrent ups: %v\n%s\n---\n%s", codes, outs[0], outs[1])
	}
	out, _ := exec.Command("pgrep", "-f", "^"+bin+"$").Output()
	if n := len(strings.Fields(string(out))); n != 2 {
		t.Fatalf("%d host server processes, want 2 (backend, worker)", n)
	}
	h.must("down")
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestIntegrationHostServiceVerbs: top lists a host service's processes,
// kill signals its group, wait returns its exit code.
func TestIntegrationHostServiceVerbs(t *testing.T) {
	_, image, h, project := serverProject(t)
	bin := hostServer(t)
	h.write("docker-compose.dev.yml", hostFile(project, image, bin, freePort(t), freePort(t), freePort(t), "v1"))
	t.Cleanup(func() { h.run("down") })
	h.must("up")
	if r := h.must("top", "worker"); !strings.Contains(r.stdout, bin) || !strings.Contains(r.stdout, "sleep") {
		t.Fatalf("top worker:\n%s", r.stdout)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		h.run("kill", "worker")
	}()
	if r := h.run("wait", "worker"); r.code != 137 || !strings.Contains(r.stdout, `host service "worker" exited with status code 137`) {
		t.Fatalf("wait worker: %s", r)
	}
	h.must("down")
}

// TestIntegrationHostServiceOtherDirectory: a project of the same name in
// another directory leaves this one's host services alone (exit 2), as it
// leaves its containers.
func TestIntegrationHostServiceOtherDirectory(t *testing.T) {
	_, _, h, project := serverProject(t)
	bin := hostServer(t)
	file := fmt.Sprintf(`name: %s
x-devenv:
  host:
    api: {port: %d, command: ["%s"], env: {LISTEN: "{api}"}, health: "http://localhost:{api}/healthz"}
`, project, freePort(t), bin)
	h.write("docker-compose.dev.yml", file)
	t.Cleanup(func() { h.run("down") })
	h.must("up")
	before := hostRows(t, h)["api"]
	other := &harness{t: t, dir: t.TempDir(), registry: h.registry}
	for _, kv := range h.env {
		if !strings.HasPrefix(kv, "PWD=") {
			other.env = append(other.env, kv)
		}
	}
	other.env = append(other.env, "PWD="+other.dir)
	other.write("docker-compose.dev.yml", file)
	for _, args := range [][]string{{"down"}, {"stop", "api"}, {"restart", "api"}, {"stop"}, {"start", "api"}, {"kill", "api"}, {"up"}} {
		r := other.run(args...)
		named := strings.Contains(r.stderr, "host service api") || args[0] == "up" // up: the registry names the directory
		if r.code != 2 || !named || !strings.Contains(r.stderr, h.dir) {
			t.Fatalf("devenv %v in another directory: %s", args, r)
		}
	}
	if after := hostRows(t, h)["api"]; after.State != "running" || after.PID != before.PID {
		t.Fatalf("the other directory's commands touched this project's host service: %+v → %+v", before, after)
	}
}

// TestIntegrationConcurrentUpFromScratch: two ups at once on a project
// with nothing created yet both succeed (the second waits for the first):
// one network, one container per service, none removed half-started.
func TestIntegrationConcurrentUpFromScratch(t *testing.T) {
	c, image, h, project := serverProject(t)
	bin := hostServer(t)
	dbPort, bePort, wkPort := freePort(t), freePort(t), freePort(t)
	h.write("docker-compose.dev.yml", hostFile(project, image, bin, dbPort, bePort, wkPort, "v1"))
	t.Cleanup(func() { h.run("down") })
	codes, outs := upAtOnce(t, h, 2, "up")
	if codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("concurrent ups: %v\n%s\n---\n%s", codes, outs[0], outs[1])
	}
	if !strings.Contains(outs[0]+outs[1], "is changing this project") {
		t.Fatalf("neither up said it waited:\n%s\n---\n%s", outs[0], outs[1])
	}
	nets, err := c.NetworkList(t.Context(), client.NetworkListOptions{Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project)})
	if err != nil || len(nets.Items) != 1 {
		t.Fatalf("networks of the project: %+v %v", nets, err)
	}
	if ids := containerIDs(t, c, project); len(ids) != 1 {
		t.Fatalf("containers: %v", ids)
	}
	h.must("up") // and no ambiguity afterwards
	h.must("down")
}

// TestIntegrationOrphanHostService: a host service removed from the file
// is an orphan, as compose treats a removed service's container: up warns
// and ps shows it; up --remove-orphans stops it.
func TestIntegrationOrphanHostService(t *testing.T) {
	_, _, h, project := serverProject(t)
	bin := hostServer(t)
	api, worker := freePort(t), freePort(t)
	both := fmt.Sprintf(`name: %s
x-devenv:
  host:
    api: {port: %d, command: ["%s"], env: {LISTEN: "{api}"}, health: "http://localhost:{api}/healthz"}
    worker: {port: %d, command: ["%s"], env: {LISTEN: "{worker}"}, health: "http://localhost:{worker}/healthz"}
`, project, api, bin, worker, bin)
	h.write("docker-compose.dev.yml", both)
	t.Cleanup(func() { h.run("down") })
	h.must("up")
	pid := hostRows(t, h)["worker"].PID
	h.write("docker-compose.dev.yml", strings.Split(both, "    worker:")[0])
	r := h.must("up")
	if !strings.Contains(r.stderr, "orphan host service worker") || !strings.Contains(r.stderr, "--remove-orphans") {
		t.Fatalf("up did not warn about the orphan:\n%s", r.stderr)
	}
	if row := hostRows(t, h)["worker"]; row.PID != pid || !strings.Contains(row.Status, "orphan") {
		t.Fatalf("ps does not show the orphan: %+v", row)
	}
	if !strings.Contains(h.must("up", "--dry-run").stdout, "orphan worker") {
		t.Fatal("the plan does not show the orphan")
	}
	h.must("up", "--remove-orphans")
	if !groupGone(pid) {
		t.Fatal("up --remove-orphans left the orphan running")
	}
	if _, ok := hostRows(t, h)["worker"]; ok {
		t.Fatal("ps still shows the stopped orphan")
	}
}

// TestIntegrationDaemonisedChildStopped: a child that leaves the service's
// process group and session (setsid, as pg_ctl or redis-server
// --daemonize) is stopped by down all the same (Linux: the supervisor is
// its subreaper).
func TestIntegrationDaemonisedChildStopped(t *testing.T) {
	_, _, h, project := serverProject(t)
	bin := hostServer(t)
	marker := fmt.Sprint(3000 + os.Getpid()%1000 + int(projectSeq.Add(1)))
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
x-devenv:
  host:
    api:
      port: %d
      command: setsid sleep %s & exec %s
      env: {LISTEN: "{api}"}
      health: "http://localhost:{api}/healthz"
`, project, freePort(t), marker, bin))
	t.Cleanup(func() { h.run("down"); exec.Command("pkill", "-f", "^sleep "+marker+"$").Run() })
	h.must("up")
	daemon := func() string {
		out, _ := exec.Command("pgrep", "-f", "^sleep "+marker+"$").Output()
		return strings.TrimSpace(string(out))
	}
	if daemon() == "" {
		t.Fatal("the daemonised child did not start")
	}
	h.must("down")
	for range 100 {
		if daemon() == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the daemonised child (pid %s) outlived down", daemon())
}
