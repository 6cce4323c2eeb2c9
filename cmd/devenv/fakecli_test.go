package main

import (
	"bytes"
	"context"
	"flag"
	"math/rand/v2"
	"fmt"
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
	f.env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "DEVENV_REGISTRY=" + filepath.Join(home, "registry.yaml"), "XDG_STATE_HOME=" + filepath.Join(home, "state")}
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
		{`"(RunningFor|CreatedAt|Status)":"[^"]*"`, `"$1":"$$VARIES"`},
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
