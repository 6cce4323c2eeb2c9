package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/fakeengine"
)

var update = flag.Bool("update", false, "rewrite cmd/devenv/testdata/golden from the current output")

// fakeCLI runs devenv's commands in-process against internal/fakeengine:
// the whole command line (flags, loading, the orchestrator, the
// renderers) without a Docker engine.
type fakeCLI struct {
	t   *testing.T
	eng *fakeengine.Engine
	dir string
	env []string
}

func newFakeCLI(t *testing.T, file string) *fakeCLI {
	t.Helper()
	// A directory of a fixed length whatever TMPDIR is, so that tables are
	// laid out the same in every run and on every machine.
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("devenv-golden-%08x", rand.Uint32()))
	if pad := 72 - len(dir); pad > 0 {
		dir += strings.Repeat("x", pad)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fakeCLI{t: t, eng: fakeengine.New(), dir: dir}
	home := t.TempDir()
	f.env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "DEVENV_REGISTRY=" + filepath.Join(home, "registry.yaml"), "XDG_STATE_HOME=" + filepath.Join(home, "state"), "DEVENV_PROXY=off"}
	f.eng.AddImage("sha256:"+strings.Repeat("a", 64), "postgres:15")
	f.eng.AddImage("sha256:"+strings.Repeat("b", 64), "redis:7")
	f.eng.AddImage("sha256:"+strings.Repeat("c", 64), "demo/api:dev")
	if err := os.WriteFile(filepath.Join(f.dir, "docker-compose.dev.yml"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeCLI) run(args ...string) result {
	f.t.Helper()
	var out, errb bytes.Buffer
	code := runOn(context.Background(), f.eng, f.dir, append([]string{"devenv"}, args...), f.env, strings.NewReader(""), &out, &errb)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

func (f *fakeCLI) must(args ...string) result {
	f.t.Helper()
	r := f.run(args...)
	if r.code != 0 {
		f.t.Fatalf("devenv %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// stable replaces what changes from run to run: the test's directories,
// times, durations.
func (f *fakeCLI) stable(s string) string {
	s = strings.ReplaceAll(s, f.dir, "$PROJECT_DIR")
	for _, re := range []struct{ pat, with string }{
		{`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( ?[+-]\d\d:?\d\d)?( [A-Z]+)?Z?`, "$$TIME"},
		{`(Up|Exited \(\d+\)) (About a minute|About an hour|Less than a second|\d+ (seconds?|minutes?|hours?))`, "$1 $$DURATION"},
		{`(About a minute|About an hour|Less than a second|\d+ (seconds?|minutes?|hours?|days?)) ago`, "$$DURATION ago"},
		{`"(RunningFor|CreatedAt)":"[^"]*"`, `"$1":"$$VARIES"`},
		{`"latency_ms":\d+`, `"latency_ms":$$N`},
		{`\b\d+ms\b`, "$$Nms"},
	} {
		s = regexp.MustCompile(re.pat).ReplaceAllString(s, re.with)
	}
	return s
}

// golden compares got with testdata/golden/NAME, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/devenv -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

const goldenFile = `name: gold
x-devenv:
  stack: Golden + Fake
services:
  db:
    image: postgres:15
    environment: {POSTGRES_USER: app, POSTGRES_PASSWORD: pw, POSTGRES_DB: appdb}
    ports: ["45434:5432"]
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck: {test: ["CMD", "pg_isready"], interval: 5s}
  cache:
    image: redis:7
    ports: ["46380:6379"]
  api:
    image: demo/api:dev
    ports: ["44000:4000"]
    depends_on:
      db: {condition: service_healthy}
volumes:
  pgdata:
`

// TestRenderersGolden runs each command that renders data against the
// fake engine and compares its output with a golden file: ps, ls, ports
// and the port map, health, config, images, stats, top, port, volumes.
func TestRenderersGolden(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("up", "--progress", "plain")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"ps.txt", []string{"ps"}},
		{"ps-all.txt", []string{"ps", "-a"}},
		{"ps.json", []string{"ps", "--format", "json"}},
		{"ps-quiet.txt", []string{"ps", "-q"}},
		{"ps-services.txt", []string{"ps", "--services"}},
		{"ps-template.txt", []string{"ps", "--format", "table {{.Service}}\t{{.State}}"}},
		{"ls.txt", []string{"ls"}},
		{"ls.json", []string{"ls", "--format", "json"}},
		{"ports.txt", []string{"ports"}},
		{"ports.json", []string{"ports", "--format", "json"}},
		{"ports-map.md", []string{"ports", "--format", "markdown"}},
		{"config.yaml", []string{"config"}},
		{"config.json", []string{"config", "--format", "json"}},
		{"config-services.txt", []string{"config", "--services"}},
		{"images.txt", []string{"images"}},
		{"images.json", []string{"images", "--format", "json"}},
		{"stats.txt", []string{"stats", "--no-stream"}},
		{"stats.json", []string{"stats", "--no-stream", "--format", "json"}},
		{"top.txt", []string{"top"}},
		{"port.txt", []string{"port", "db", "5432"}},
		{"volumes.txt", []string{"volumes"}},
		{"health.txt", []string{"health"}},
		{"health.json", []string{"health", "--format", "json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.run(c.args...)
			golden(t, c.name, fmt.Sprintf("$ devenv %s\nexit %d\n%s", strings.Join(c.args, " "), r.code, f.stable(r.stdout)))
		})
	}
	// A stopped service, as ps -a and ls show it.
	f.must("stop", "cache")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"ps-all-stopped.txt", []string{"ps", "-a"}},
		{"ls-stopped.txt", []string{"ls"}},
	} {
		r := f.run(c.args...)
		golden(t, c.name, fmt.Sprintf("$ devenv %s\nexit %d\n%s", strings.Join(c.args, " "), r.code, f.stable(r.stdout)))
	}
}

// TestCommandsAgainstFakeEngine runs the lifecycle and everyday commands
// through the whole command line against the in-memory engine, with their
// exit codes and what they say.
func TestCommandsAgainstFakeEngine(t *testing.T) {
	f := newFakeCLI(t, goldenFile+`x-devenv:
  env_files:
    web/.env: {DB_PORT: "{db}", API_URL: "http://localhost:{api}"}
`)
	// The goldenFile's own x-devenv block is replaced by this one.
	os.WriteFile(filepath.Join(f.dir, "docker-compose.dev.yml"), []byte(strings.Replace(goldenFile, "x-devenv:\n  stack: Golden + Fake\n", "x-devenv:\n  stack: Golden + Fake\n  env_files:\n    web/.env: {DB_PORT: \"{db}\", API_URL: \"http://localhost:{api}\"}\n", 1)), 0o644)
	steps := []struct {
		args   []string
		code   int
		out    string // in stdout
		errOut string // in stderr
	}{
		{[]string{"up", "--dry-run"}, 0, "create db (gold-db-1)", ""},
		{[]string{"env", "--check"}, 1, "web/.env: missing", "out of date"},
		{[]string{"up", "--progress", "plain"}, 0, "", "web/.env Written"},
		{[]string{"env", "--check"}, 0, "", ""},
		{[]string{"up", "--progress", "plain"}, 0, "", ""},
		{[]string{"ps", "--services", "--status", "running"}, 0, "db", ""},
		{[]string{"stop", "api"}, 0, "", ""},
		{[]string{"ps", "--status", "exited", "-q"}, 0, "", ""},
		{[]string{"start", "api"}, 0, "", ""},
		{[]string{"restart", "cache"}, 0, "", ""},
		{[]string{"pause", "cache"}, 0, "", ""},
		{[]string{"unpause", "cache"}, 0, "", ""},
		{[]string{"kill", "-s", "SIGTERM", "cache"}, 0, "", ""},
		{[]string{"rm", "-f", "cache"}, 0, "", ""},
		{[]string{"create", "cache"}, 0, "", ""},
		{[]string{"start", "cache"}, 0, "", ""},
		{[]string{"logs", "--no-log-prefix", "db"}, 0, "log line of gold-db-1", ""},
		{[]string{"logs", "--tail", "5"}, 0, "log line of gold-api-1", ""},
		{[]string{"exec", "-T", "db", "true"}, 0, "", ""},
		{[]string{"connect", "--url"}, 0, "postgresql://app:pw@127.0.0.1:45434/appdb", ""},
		{[]string{"connect", "-T", "db"}, 0, "", ""},
		{[]string{"run", "--rm", "-T", "--no-deps", "cache", "redis-cli", "ping"}, 0, "", ""},
		{[]string{"ports", "check"}, 0, "", ""},
		{[]string{"ports", "why", "45434"}, 0, "gold", ""},
		{[]string{"ports", "assign", "--reassign", "db"}, 0, "", ""},
		{[]string{"port", "api", "4000"}, 0, "127.0.0.1:44000", ""},
		{[]string{"doctor"}, 0, "", ""},
		{[]string{"version"}, 0, "engine fake", ""},
		{[]string{"completion", "bash"}, 0, "_devenv", ""},
		{[]string{"events", "--help"}, 0, "", ""},
		{[]string{"cp", "db:/nope", "-"}, 1, "", "nope"},
		{[]string{"exec", "-T", "nosuch", "true"}, 2, "", "nosuch"},
		{[]string{"up", "nosuch"}, 2, "", "nosuch"},
		{[]string{"stop", "--bogus"}, 2, "", "bogus"},
		{[]string{"down", "--progress", "plain"}, 0, "", "Removed"},
		{[]string{"ps", "-a", "-q"}, 0, "", ""},
		{[]string{"ports", "release", "gold"}, 0, "", ""},
		{[]string{"ports", "--format", "json"}, 0, "", ""},
	}
	for _, s := range steps {
		r := f.run(s.args...)
		if r.code != s.code || !strings.Contains(r.stdout, s.out) || !strings.Contains(r.stderr, s.errOut) {
			t.Errorf("devenv %s: want exit %d with %q on stdout and %q on stderr, got %s", strings.Join(s.args, " "), s.code, s.out, s.errOut, r)
		}
	}
	if len(f.eng.ByID) != 0 {
		t.Fatalf("down left containers: %d", len(f.eng.ByID))
	}
	if _, ok := f.eng.VolumesByName["gold_pgdata"]; !ok {
		t.Fatal("down removed the named volume")
	}
}

// A command's own --quiet silences its progress without touching the
// global --progress (pull, build and run once changed the app's mode).
func TestQuietProgressAndBoundGlobals(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	for _, ref := range []string{"postgres:15", "redis:7", "demo/api:dev"} {
		f.eng.Pulled[ref] = "sha256:" + strings.Repeat("d", 64)
	}
	loud := f.run("--progress", "plain", "pull")
	if loud.code != 0 || loud.stderr == "" {
		t.Fatalf("pull with plain progress printed no progress: %s", loud)
	}
	for _, args := range [][]string{
		{"--progress", "plain", "pull", "--quiet"},
		{"--progress", "plain", "pull", "-q"},
	} {
		if r := f.run(args...); r.code != 0 || r.stderr != "" {
			t.Errorf("devenv %s: want no progress, got %s", strings.Join(args, " "), r)
		}
	}
	// The globals read from where they are bound, before or after the command.
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--parallel", "0", "ps"}, 2, "--parallel 0"},
		{[]string{"ps", "--parallel", "-3"}, 2, "--parallel -3"},
		{[]string{"--parallel", "1", "ps"}, 0, ""},
		{[]string{"--ansi", "always", "ps"}, 2, "--ansi always"},
		{[]string{"--verbose", "ps"}, 2, "--verbose"},
		{[]string{"--dry-run", "ps"}, 2, "--dry-run"},
		{[]string{"--progress", "loud", "ps"}, 2, `--progress "loud"`},
		{[]string{"--parallel", "-1", "--ansi", "never", "ps"}, 0, ""},
	} {
		if r := f.run(c.args...); r.code != c.code || !strings.Contains(r.stderr, c.err) {
			t.Errorf("devenv %s: want exit %d naming %q, got %s", strings.Join(c.args, " "), c.code, c.err, r)
		}
	}
}
