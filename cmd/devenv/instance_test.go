package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/compose"
)

// A second instance of a project runs beside the first: its own project
// name, containers, ports (the main checkout holds 45434: the instance gets
// the postgres rule's first, 5434) and .env naming
// it for plain compose; a linked git worktree is an instance by itself.
func TestInstanceBesideTheMainCheckout(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("up")
	up := f.must("--instance", "feat", "up", "--progress", "plain")
	if !strings.Contains(up.stderr, "instance feat: its own containers") {
		t.Fatalf("up did not say it is an instance:\n%s", up.stderr)
	}
	ps := f.must("--instance", "feat", "ps", "--format", "{{.Name}} {{.Ports}}").stdout
	if !strings.Contains(ps, "gold-feat-db-1 127.0.0.1:5434->5432/tcp") {
		t.Fatalf("the instance's containers and ports:\n%s", ps)
	}
	if main := f.must("ps", "-q").stdout; strings.Count(main, "\n") != 3 {
		t.Fatalf("the main checkout's ps lists %q", main)
	}
	env, err := os.ReadFile(filepath.Join(f.dir, ".env"))
	if err != nil || !strings.Contains(string(env), "COMPOSE_PROJECT_NAME=gold-feat\n") {
		t.Fatalf(".env: %q %v", env, err)
	}
	// Read back from .env, the name does not get the suffix twice.
	if ps := f.must("--instance", "feat", "ps", "--services").stdout; !strings.Contains(ps, "db") {
		t.Fatalf("ps after .env: %s", ps)
	}
	f.must("--instance", "feat", "down")
	f.must("ports", "release", "gold-feat") // else the registry keeps "feat" for this directory
	os.Remove(filepath.Join(f.dir, ".env"))
	// A linked worktree: its directory's name is the instance.
	os.WriteFile(filepath.Join(f.dir, ".git"), []byte("gitdir: /src/gold/.git/worktrees/x\n"), 0o644)
	wt := compose.InstanceName(filepath.Base(f.dir))
	f.must("up")
	if ps := f.must("ps", "--format", "{{.Name}}").stdout; !strings.Contains(ps, "gold-"+wt+"-db-1") {
		t.Fatalf("a worktree's containers:\n%s", ps)
	}
}

// instance ls lists a worktree's instance; once its directory is gone,
// instance prune downs it (its volumes stay) and releases its ports, and
// leaves the main checkout alone.
func TestInstancePrune(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("up")
	wt := *f
	wt.dir = filepath.Join(t.TempDir(), "feature-x")
	os.MkdirAll(wt.dir, 0o755)
	os.WriteFile(filepath.Join(wt.dir, "docker-compose.dev.yml"), []byte(goldenFile), 0o644)
	os.WriteFile(filepath.Join(wt.dir, ".git"), []byte("gitdir: "+f.dir+"/.git/worktrees/feature-x\n"), 0o644)
	wt.must("up")
	if ls := f.must("instance", "ls").stdout; !strings.Contains(ls, "gold     feature-x  gold-feature-x  "+wt.dir) {
		t.Fatalf("instance ls:\n%s", ls)
	}
	if r := f.must("instance", "prune"); !strings.Contains(r.stderr, "no instance's directory is gone") {
		t.Fatalf("prune with every directory there: %s", r)
	}
	os.RemoveAll(wt.dir)
	if r := f.must("instance", "prune"); !strings.Contains(r.stdout, "pruned gold-feature-x") {
		t.Fatalf("prune: %s", r)
	}
	if f.eng.ByName("gold-feature-x-db-1") != nil || f.eng.ByName("gold-db-1") == nil {
		t.Fatal("prune removed the wrong containers")
	}
	if _, ok := f.eng.VolumesByName["gold-feature-x_pgdata"]; !ok {
		t.Fatal("prune removed the instance's volume without --volumes")
	}
	if ls := f.must("instance", "ls").stdout; strings.Contains(ls, "feature-x") {
		t.Fatalf("a pruned instance is still listed:\n%s", ls)
	}
}

// Two worktrees in directories of one name get two instances: the second
// a short suffix of its own path, which the registry keeps for it.
func TestInstanceNamesCollide(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	worktree := func(parent string) *fakeCLI {
		wt := *f
		wt.dir = filepath.Join(parent, "feature-x")
		os.MkdirAll(wt.dir, 0o755)
		os.WriteFile(filepath.Join(wt.dir, "docker-compose.dev.yml"), []byte(goldenFile), 0o644)
		os.WriteFile(filepath.Join(wt.dir, ".git"), []byte("gitdir: /src/gold/.git/worktrees/feature-x\n"), 0o644)
		return &wt
	}
	one, two := worktree(t.TempDir()), worktree(t.TempDir())
	one.must("up")
	two.must("up")
	names := f.must("instance", "ls", "--format", "json").stdout
	if strings.Count(names, `"instance":"feature-x"`) != 1 || strings.Count(names, `"instance":"feature-x-`) != 1 {
		t.Fatalf("two worktrees named alike:\n%s", names)
	}
	// The second keeps its name on the next run.
	if ps := two.must("ps", "--format", "{{.Name}}").stdout; !strings.Contains(ps, "gold-feature-x-") || strings.Contains(ps, "gold-feature-x-db-1") {
		t.Fatalf("the second worktree's containers:\n%s", ps)
	}
}

// ls lists an instance under its project.
func TestLsGroupsInstances(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("up")
	f.must("--instance", "feat", "up")
	ls := f.must("ls").stdout
	gold, inst := strings.Index(ls, "\ngold "), strings.Index(ls, "└ gold-feat")
	if gold < 0 || inst < gold || !strings.Contains(f.must("ls", "--format", "json").stdout, `"Instance":"feat"`) {
		t.Fatalf("ls:\n%s", ls)
	}
}

// ports and the markdown port map show an instance as such.
func TestPortsShowInstances(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("--instance", "feat", "up")
	for _, args := range [][]string{{"ports"}, {"ports", "--format", "markdown"}} {
		if out := f.must(args...).stdout; !strings.Contains(out, "gold-feat") || !strings.Contains(out, "(instance feat)") {
			t.Errorf("devenv %s:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := f.must("ports", "--format", "json").stdout; !strings.Contains(out, `"instance":"feat"`) {
		t.Errorf("ports json:\n%s", out)
	}
}

// instance rename refuses an instance that runs, and a checkout that is
// no instance.
func TestInstanceRenameRefuses(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("--instance", "feat", "up")
	if r := f.run("instance", "rename", "feat", "login"); r.code != 2 || !strings.Contains(r.stderr, "stop it first") {
		t.Errorf("renaming a running instance: %s", r)
	}
	if r := f.run("instance", "rename", "feat"); r.code != 2 || !strings.Contains(r.stderr, "need OLD and NEW") {
		t.Errorf("one argument: %s", r)
	}
	if r := f.run("instance", "rename", "feat", "feat"); r.code != 2 || !strings.Contains(r.stderr, "not a new instance name") {
		t.Errorf("the same name: %s", r)
	}
}

// instance rename works only in the instance's own directory: from the
// main checkout it changes nothing.
func TestInstanceRenameElsewhereRefused(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	wt := *f
	wt.dir = filepath.Join(t.TempDir(), "feature-x")
	os.MkdirAll(wt.dir, 0o755)
	os.WriteFile(filepath.Join(wt.dir, "docker-compose.dev.yml"), []byte(goldenFile), 0o644)
	os.WriteFile(filepath.Join(wt.dir, ".git"), []byte("gitdir: "+f.dir+"/.git/worktrees/feature-x\n"), 0o644)
	wt.must("up")
	wt.must("stop")
	if r := f.run("instance", "rename", "feature-x", "login"); r.code != 2 {
		t.Fatalf("rename from the main checkout: %s", r)
	}
	if _, err := os.Stat(filepath.Join(f.dir, ".env")); err == nil {
		t.Fatal("a refused rename wrote the main checkout's .env")
	}
	if f.eng.ByName("gold-feature-x-db-1") == nil {
		t.Fatal("a refused rename removed the instance's containers")
	}
}

// An instance name that sanitises to nothing is refused (exit 2), never
// taken for the main checkout.
func TestBadInstanceName(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	for _, args := range [][]string{{"--instance", "---", "up"}, {"--instance", "ÄÖ", "ps"}} {
		if r := f.run(args...); r.code != 2 || !strings.Contains(r.stderr, "has no letter or digit") {
			t.Errorf("devenv %s: %s", strings.Join(args, " "), r)
		}
	}
	if len(f.eng.ByID) != 0 {
		t.Fatal("a refused instance created containers")
	}
}
