package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/devenv-dev/devenv/registry"
	"github.com/moby/moby/client"
)

// runStdin is one devenv run with stdin from a pipe.
func (h *harness) runStdin(stdin string, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := runIn(context.Background(), h.dir, append([]string{"devenv"}, args...), h.env, strings.NewReader(stdin), &out, &errb)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

func dataProject(project string, pgPort, redisPort, toolPort int) string {
	return fmt.Sprintf(`name: %s
services:
  db:
    image: postgres:15
    environment:
      POSTGRES_PASSWORD: pw
      POSTGRES_USER: app
      POSTGRES_DB: appdb
    ports: ["%d:5432"]
  cache:
    image: redis:7
    ports: ["%d:6379"]
  tool:
    image: postgres:15
    profiles: [tools]
    depends_on:
      db: {condition: service_healthy}
    environment:
      PGPASSWORD: pw
    ports: ["%d:5432"]
`, project, pgPort, redisPort, toolPort)
}

// TestIntegrationExecAndConnect: exec passes stdin through and the
// command's exit code out; connect runs the service's own client as its
// POSTGRES_USER on its POSTGRES_DB, through a pipe; connect --url has the
// assigned port and works with psql on this machine; a stopped or unknown
// service is a clear error with its exit code.
func TestIntegrationExecAndConnect(t *testing.T) {
	c := testbed.Engine(t)
	testbed.RequireImages(t, "postgres:15", "redis:7")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	pg, rd := freePort(t), freePort(t)
	h.write("docker-compose.dev.yml", dataProject(project, pg, rd, freePort(t)))
	h.must("up", "-d", "db", "cache")

	r := h.runStdin("select 40 + 2;\n", "exec", "-T", "db", "psql", "-U", "app", "-d", "appdb", "-tA")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "42" {
		t.Fatalf("exec with stdin: %s", r)
	}
	if r = h.run("exec", "-T", "db", "sh", "-c", "echo out; echo err >&2; exit 7"); r.code != 7 || r.stdout != "out\n" || !strings.Contains(r.stderr, "err") {
		t.Fatalf("exec exit code and streams: %s", r)
	}
	if r = h.run("exec", "-T", "-e", "A=1", "-w", "/tmp", "-u", "postgres", "db", "sh", "-c", `echo "$A $(pwd) $(id -un)"`); strings.TrimSpace(r.stdout) != "1 /tmp postgres" {
		t.Fatalf("exec -e -w -u: %s", r)
	}
	// -e K takes K from the project's environment (.env too); -d returns
	// at once and the command runs on.
	h.write(".env", "FROMENV=dotenv\n")
	if r = h.run("exec", "-T", "-e", "FROMENV", "db", "sh", "-c", `echo "$FROMENV"`); strings.TrimSpace(r.stdout) != "dotenv" {
		t.Fatalf("exec -e K: %s", r)
	}
	if r = h.run("exec", "-d", "db", "sh", "-c", "sleep 1; touch /tmp/detached"); r.code != 0 || r.stdout != "" {
		t.Fatalf("exec -d: %s", r)
	}
	if r = h.run("exec", "-T", "db", "test", "-e", "/tmp/detached"); r.code != 1 {
		t.Fatalf("exec -d waited for its command: %s", r)
	}
	// Flags after the service belong to the command.
	if r = h.run("exec", "-T", "db", "psql", "-U", "app", "-d", "appdb", "-tAc", "select current_user"); strings.TrimSpace(r.stdout) != "app" {
		t.Fatalf("the command's own flags: %s", r)
	}
	r = h.runStdin("select current_user || '@' || current_database();\n", "connect", "-T")
	if r.code != 0 || !strings.Contains(r.stdout, "app@appdb") {
		t.Fatalf("connect through a pipe: %s", r)
	}
	if r = h.runStdin("ping\n", "connect", "-T", "cache"); r.code != 0 || !strings.Contains(r.stdout, "PONG") {
		t.Fatalf("connect to redis: %s", r)
	}
	url := strings.TrimSpace(h.must("connect", "--url", "db").stdout)
	if want := fmt.Sprintf("postgresql://app:pw@127.0.0.1:%d/appdb", pg); url != want {
		t.Fatalf("connect --url = %q, want %q", url, want)
	}
	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, url, "-tAc", "select 7").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "7" {
			t.Fatalf("psql with the URL: %v %s", err, out)
		}
	}
	if got := strings.TrimSpace(h.must("connect", "--url", "cache").stdout); got != fmt.Sprintf("redis://127.0.0.1:%d", rd) {
		t.Fatalf("connect --url cache = %q", got)
	}

	h.must("stop", "cache")
	if r = h.run("exec", "-T", "cache", "true"); r.code != 1 || !strings.Contains(r.stderr, `service "cache" is not running`) {
		t.Fatalf("exec in a stopped service: %s", r)
	}
	if r = h.run("exec", "-T", "nosuch", "true"); r.code != 2 || !strings.Contains(r.stderr, "nosuch") {
		t.Fatalf("exec in an unknown service: %s", r)
	}
	if r = h.run("exec", "db"); r.code != 2 {
		t.Fatalf("exec without a command: %s", r)
	}
}

// TestIntegrationExecTTY drives exec through a pseudo-terminal: the command
// gets a TTY, and its exit code is devenv's.
func TestIntegrationExecTTY(t *testing.T) {
	c := testbed.Engine(t)
	testbed.RequireImages(t, "postgres:15")
	if _, err := exec.LookPath("script"); err != nil {
		if testbed.Required() {
			t.Fatal("script (util-linux) is needed to run devenv in a pseudo-terminal")
		}
		t.Skip("script (util-linux) is not installed")
	}
	bin := buildDevenv(t)
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	h.write("docker-compose.dev.yml", dataProject(project, freePort(t), freePort(t), freePort(t)))
	h.must("up", "db")
	cmd := exec.Command("script", "-qec", bin+` exec db sh -c 'tty; stty size; exit 5'`, "/dev/null")
	cmd.Dir, cmd.Env = h.dir, append(h.env, "COLUMNS=100", "LINES=30")
	out, err := cmd.CombinedOutput()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 5 || !strings.Contains(string(out), "/dev/pts/") {
		t.Fatalf("exec in a terminal: %v\n%s", err, out)
	}
	cmd = exec.Command("script", "-qec", bin+` exec -T db sh -c 'tty'`, "/dev/null")
	cmd.Dir, cmd.Env = h.dir, h.env
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), "not a tty") {
		t.Fatalf("exec -T still gave a TTY:\n%s", out)
	}
}

// TestIntegrationRun: a one-off is named and labelled as compose's, starts
// its dependencies, leaves nothing behind with --rm, publishes no ports
// unless asked, gets the registry's port with --service-ports, is hidden
// from ps, and goes with down.
func TestIntegrationRun(t *testing.T) {
	c := testbed.Engine(t)
	testbed.RequireImages(t, "postgres:15", "redis:7")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	h.write("docker-compose.dev.yml", dataProject(project, freePort(t), freePort(t), freePort(t)))
	ctx := context.Background()
	oneoffs := func() []string {
		f := client.Filters{}.Add("label", "com.docker.compose.project="+project).Add("label", "com.docker.compose.oneoff=True")
		cs, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, ct := range cs.Items {
			names = append(names, strings.TrimPrefix(ct.Names[0], "/")+" "+ct.Labels["com.docker.compose.slug"][:12])
		}
		return names
	}

	// tool depends on db (healthy): run starts it first, and reaches it by
	// its service name on the project network.
	r := h.run("run", "--rm", "-T", "tool", "psql", "-h", "db", "-U", "app", "-d", "appdb", "-tAc", "select 5")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "5" {
		t.Fatalf("run with a dependency: %s", r)
	}
	if left := oneoffs(); len(left) != 0 {
		t.Fatalf("run --rm left %v", left)
	}
	if r = h.run("run", "--rm", "-T", "--no-deps", "cache", "sh", "-c", "exit 4"); r.code != 4 {
		t.Fatalf("run exit code: %s", r)
	}
	// --entrypoint is split as compose splits it, and replaces the command.
	if r = h.run("run", "--rm", "-T", "--no-deps", "--entrypoint", "sh -c", "cache", "echo from-entrypoint"); strings.TrimSpace(r.stdout) != "from-entrypoint" {
		t.Fatalf("run --entrypoint: %s", r)
	}
	if r = h.run("run", "--rm", "-T", "--service-ports", "-p", "1:1", "tool", "true"); r.code != 2 {
		t.Fatalf("run --service-ports with -p: %s", r)
	}

	// Kept without --rm, named PROJECT-SERVICE-run-SLUG, not in ps.
	h.must("run", "-T", "--no-deps", "cache", "true")
	left := oneoffs()
	if len(left) != 1 {
		t.Fatalf("one-offs: %v", left)
	}
	name, slug, _ := strings.Cut(left[0], " ")
	if name != project+"-cache-run-"+slug {
		t.Fatalf("one-off name %q (slug %s)", name, slug)
	}
	if ps := h.must("ps", "-a").stdout; strings.Contains(ps, "-run-") {
		t.Fatalf("ps shows a one-off:\n%s", ps)
	}

	// --service-ports: the registry's port for tool, on 127.0.0.1.
	name = strings.TrimSpace(h.must("run", "-d", "--service-ports", "--name", project+"-probe", "tool").stdout)
	if name != project+"-probe" {
		t.Fatalf("run -d printed %q", name)
	}
	store, err := registry.Locate(h.registry, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	var assigned int
	for _, p := range reg.Projects {
		for _, res := range p.Reservations {
			if p.Name == project && res.Service == "tool" {
				assigned = res.Port
			}
		}
	}
	ins, err := c.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, bs := range ins.Container.HostConfig.PortBindings {
		for _, b := range bs {
			got = append(got, b.HostIP.String()+":"+b.HostPort)
		}
	}
	if assigned == 0 || len(got) != 1 || got[0] != fmt.Sprintf("127.0.0.1:%d", assigned) {
		t.Fatalf("run --service-ports bindings %v, registry port %d", got, assigned)
	}
	// A -p port another project holds in the registry is refused, exit 3.
	if r = h.run("run", "--rm", "-T", "--no-deps", "-p", fmt.Sprintf("%d:6379", assigned), "cache", "true"); r.code != 3 || !strings.Contains(r.stderr, "tool") {
		t.Fatalf("run -p on a reserved port: %s", r)
	}

	// Interrupted, run --rm stops the one-off and it goes, without a word
	// about the engine's own removal racing devenv's.
	ictx, interrupt := context.WithCancel(ctx)
	time.AfterFunc(2*time.Second, interrupt)
	before := len(oneoffs())
	r = h.runCtx(ictx, "run", "--rm", "-T", "--no-deps", "cache", "sh", "-c", "trap exit TERM; sleep 30 & wait")
	if strings.Contains(r.stderr, "already in progress") || r.code == 0 {
		t.Fatalf("run --rm interrupted: %s", r)
	}
	for i := 0; len(oneoffs()) > before; i++ {
		if i > 100 {
			t.Fatalf("an interrupted run --rm left its one-off: %v", oneoffs())
		}
		time.Sleep(100 * time.Millisecond)
	}

	h.must("down")
	if left := oneoffs(); len(left) != 0 {
		t.Fatalf("down left one-offs: %v", left)
	}
}

// TestIntegrationPull: images that are present are skipped under
// --policy missing, pull_policy never skips, an image no registry serves
// fails naming the service (exit 1) unless --ignore-pull-failures.
func TestIntegrationPull(t *testing.T) {
	c := testbed.Engine(t)
	testbed.RequireImages(t, "redis:7")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  cache:
    image: redis:7
  pinned:
    image: devenv-test/never-pulled:1
    pull_policy: never
  gone:
    image: devenv-test/not-in-any-registry:1
`, project))
	r := h.run("pull", "--progress", "plain", "--policy", "missing", "cache")
	if r.code != 0 || !strings.Contains(r.stderr, "Skipped") {
		t.Fatalf("pull of a present image under --policy missing: %s", r)
	}
	if r = h.run("pull", "--progress", "plain", "pinned"); r.code != 0 || !strings.Contains(r.stderr, "Skipped") {
		t.Fatalf("pull of a pull_policy never service: %s", r)
	}
	if r = h.run("pull", "gone"); r.code != 1 || !strings.Contains(r.stderr, "gone") {
		t.Fatalf("pull of an image no registry has: %s", r)
	}
	if r = h.run("pull", "--ignore-pull-failures", "--progress", "plain", "gone"); r.code != 0 || !strings.Contains(r.stderr, "gone") {
		t.Fatalf("pull --ignore-pull-failures: %s", r)
	}
	if r = h.run("pull", "--policy", "sometimes"); r.code != 2 {
		t.Fatalf("pull --policy sometimes: %s", r)
	}
}

// TestIntegrationConnectWithPasswords: connect works where the database
// asks for a password on its own socket (PostgreSQL initialised with
// --auth-local=scram-sha-256, Redis with --requirepass): the service's own
// password reaches the client through the exec's environment, never its
// command line.
func TestIntegrationConnectWithPasswords(t *testing.T) {
	c := testbed.Engine(t)
	testbed.RequireImages(t, "postgres:15", "redis:7")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  db:
    image: postgres:15
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: s3cret-pg
      POSTGRES_DB: appdb
      POSTGRES_INITDB_ARGS: --auth-local=scram-sha-256
    ports: ["%d:5432"]
    healthcheck: {test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "app"], interval: 1s, retries: 60}
  cache:
    image: redis:7
    command: ["redis-server", "--requirepass", "s3cret-redis", "--protected-mode", "no"]
    ports: ["%d:6379"]
`, project, freePort(t), freePort(t)))
	h.must("up", "-d")
	// Without the password the socket refuses: the test's premise.
	if r := h.runStdin("select 1;\n", "exec", "-T", "db", "psql", "-U", "app", "-d", "appdb", "-w"); r.code == 0 {
		t.Fatalf("psql without a password was let in; the test proves nothing:\n%s", r)
	}
	r := h.runStdin("select current_user || '@' || current_database();\n", "connect", "-T", "db")
	if r.code != 0 || !strings.Contains(r.stdout, "app@appdb") {
		t.Fatalf("connect to a PostgreSQL that asks for a password: %s", r)
	}
	r = h.runStdin("ping\n", "connect", "-T", "cache")
	if r.code != 0 || !strings.Contains(r.stdout, "PONG") {
		t.Fatalf("connect to a Redis with requirepass: %s", r)
	}
}
