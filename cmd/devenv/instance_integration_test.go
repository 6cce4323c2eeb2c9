package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// The reference document's stack, with its fixed container_names, up in
// the main checkout and in two linked git worktrees at once, all healthy,
// without an edit to the compose file; down -v in the worktree leaves the
// main checkout's containers and volumes alone. --from-instance main fills
// the worktree's empty PostgreSQL volume from the main checkout's (stopping
// its postgres while reading), a row written in one is not in the other, and
// a volume with data is never overwritten; plain docker compose in a
// worktree sees its instance; a removed worktree is pruned.
func TestIntegrationWorktreeBesideMainCheckout(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed (devenv finds worktrees without it; the test makes one with it)")
	}
	h, c := exampleHarness(t)
	gitRun := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command(git, append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	gitRun(h.dir, "init", "-q")
	gitRun(h.dir, "add", ".")
	gitRun(h.dir, "commit", "-qm", "example")
	wt := filepath.Join(t.TempDir(), "login-form")
	gitRun(h.dir, "worktree", "add", "-q", wt)
	instance := compose.InstanceName(filepath.Base(wt))
	cleanupProject(t, c, "sertantai-enforcement-"+instance)
	// The worktree runs with names on: they answer through the proxy.
	otherEnv := slices.DeleteFunc(slices.Clone(h.env), func(kv string) bool { return kv == "DEVENV_PROXY=off" })
	other := &harness{t: t, dir: wt, registry: h.registry, env: append(otherEnv, "PWD="+wt)}
	t.Cleanup(func() { other.run("down", "-v"); h.run("down", "-v"); other.run("proxy", "stop") })

	h.must("up")
	psql := func(hh *harness, sql string) string {
		t.Helper()
		return strings.TrimSpace(hh.must("exec", "-T", "postgres", "psql", "-U", "postgres", "-d", "sertantai_enforcement_dev", "-tAc", sql).stdout)
	}
	psql(h, "create table t (x int); insert into t values (42)")
	r := other.must("up", "--from-instance", "main")
	if !strings.Contains(r.stderr, "Seeded") || !strings.Contains(r.stderr, "stopped while it is read") {
		t.Fatalf("the worktree's up --from-instance main did not seed its volume:\n%s", r.stderr)
	}
	var st struct {
		HTTPS int    `json:"https_port"`
		CA    string `json:"ca"`
	}
	if err := json.Unmarshal([]byte(other.must("proxy", "status", "--format", "json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	name := "frontend.sertantai-enforcement-" + instance + ".localhost"
	if open := other.must("open", "--print", "frontend").stdout; !strings.Contains(open, name) {
		t.Fatalf("the worktree's frontend name: %s", open)
	}
	cl := proxyClient(t, st.CA, st.HTTPS)
	var body string
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := cl.Get("https://" + name + ":" + strconv.Itoa(st.HTTPS) + "/"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if body = string(b); resp.StatusCode == 200 {
				break
			}
		}
	}
	if !strings.Contains(body, "stand-in for npm run dev") {
		t.Fatalf("%s through the proxy: %.200q", name, body)
	}
	if got := psql(other, "select x from t"); got != "42" {
		t.Fatalf("the seeded instance's row: %q", got)
	}
	psql(other, "insert into t values (7)")
	if got := psql(h, "select count(*) from t where x = 7"); got != "0" {
		t.Fatalf("a row written in the worktree's PostgreSQL is in the main checkout's: %q", got)
	}
	if again := other.run("up", "--from-instance", "main"); again.code != 2 || !strings.Contains(again.stderr, "has data") {
		t.Fatalf("--from-instance into a volume with data: %s", again)
	}
	if !strings.Contains(r.stderr, "instance "+instance+": its own containers") {
		t.Fatalf("the worktree's up did not say it is an instance:\n%s", r.stderr)
	}
	for _, want := range []string{"ehs_dev_postgres-" + instance, "ehs_dev_redis-" + instance, "(host) backend"} {
		if ps := other.must("ps").stdout; !strings.Contains(ps, want) {
			t.Fatalf("the worktree's ps lacks %s:\n%s", want, ps)
		}
	}
	// A second worktree at once: all three healthy, side by side.
	wt2 := filepath.Join(t.TempDir(), "agent-2")
	gitRun(h.dir, "worktree", "add", "-q", wt2)
	cleanupProject(t, c, "sertantai-enforcement-agent-2")
	third := &harness{t: t, dir: wt2, registry: h.registry, env: append(slices.Clone(h.env), "PWD="+wt2)}
	t.Cleanup(func() { third.run("down", "-v") })
	third.must("up")
	// Plain docker compose in the worktree sees the instance (its .env).
	if compose, err := exec.LookPath("docker"); err == nil {
		cmd := exec.Command(compose, "compose", "-f", "docker-compose.dev.yml", "ps", "--format", "{{.Name}}")
		cmd.Dir = wt
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ehs_dev_postgres-"+instance) {
			t.Fatalf("docker compose ps in the worktree: %v\n%s", err, out)
		}
	}
	for _, hh := range []*harness{h, other, third} {
		for key, row := range healthRows(t, hh.must("health", "--format", "json")) {
			if row.Status != "healthy" {
				t.Fatalf("%s in %s: %s %s", key, hh.dir, row.Status, row.Detail)
			}
		}
	}
	// A stopped instance renamed keeps its data under its new name.
	other.must("stop")
	renamed := other.must("instance", "rename", instance, "renamed")
	t.Cleanup(func() {
		for _, v := range []string{"pgdata", "redisdata"} {
			exec.Command("docker", "volume", "rm", "sertantai-enforcement-"+instance+"_"+v).Run()
		}
	})
	if !strings.Contains(renamed.stdout, "the old volumes stay") {
		t.Fatalf("instance rename: %s", renamed)
	}
	other.must("up")
	if ps := other.must("ps").stdout; !strings.Contains(ps, "ehs_dev_postgres-renamed") {
		t.Fatalf("after the rename:\n%s", ps)
	}
	if got := psql(other, "select count(*) from t where x = 7"); got != "1" {
		t.Fatalf("the renamed instance's row: %q", got)
	}
	other.must("down", "-v")
	// A removed worktree is pruned from the main checkout.
	gitRun(h.dir, "worktree", "remove", "--force", wt2)
	if r := h.must("instance", "prune", "--volumes"); !strings.Contains(r.stdout, "pruned sertantai-enforcement-agent-2") {
		t.Fatalf("instance prune: %s", r)
	}
	if ls := h.must("instance", "ls").stdout; strings.Contains(ls, "agent-2") {
		t.Fatalf("a pruned instance is still listed:\n%s", ls)
	}
	if ps := h.must("ps").stdout; !strings.Contains(ps, "ehs_dev_postgres ") || strings.Contains(ps, instance) {
		t.Fatalf("the main checkout after the worktree's down -v:\n%s", ps)
	}
	if out, err := exec.Command("docker", "volume", "inspect", "sertantai-enforcement_pgdata").CombinedOutput(); err != nil {
		t.Fatalf("the main checkout's volume: %v %s", err, out)
	}
}
