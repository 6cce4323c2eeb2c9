package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/compose"
)

// Two instances of one project started at the same time (two terminals,
// two agents) never get the same port, name or volume.
func TestInstancesStartedAtOnce(t *testing.T) {
	b := newBed(t, stackFile)
	load := func(instance string) *compose.Project {
		p, err := compose.Load(context.Background(), compose.Options{WorkingDir: b.dir, Instance: instance, Environ: []string{"PATH=/usr/bin"}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	projects := []*compose.Project{load("a"), load("b")}
	errs := make(chan error, 2)
	for _, p := range projects {
		go func() {
			_, err := b.o.Up(t.Context(), p, UpOptions{WaitTimeout: 5e9})
			errs <- err
		}()
	}
	for range projects {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	reg, err := b.o.Registry.Load()
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{}
	for _, p := range reg.Projects {
		for _, r := range p.Reservations {
			key := fmt.Sprintf("%d/%s", r.Port, r.Protocol)
			if other, dup := owner[key]; dup {
				t.Fatalf("port %s is both %s's and %s's", key, other, p.Name)
			}
			owner[key] = p.Name
		}
	}
	for _, name := range []string{"demo-a_pgdata", "demo-b_pgdata"} {
		if _, ok := b.eng.VolumesByName[name]; !ok {
			t.Fatalf("no volume %s among %v", name, b.eng.VolumesByName)
		}
	}
	if len(reg.Projects) != 2 || len(owner) < 4 {
		t.Fatalf("registry: %d projects, ports %v", len(reg.Projects), owner)
	}
}

// up --from-instance fills an instance's new volumes from the main
// checkout's (its db stopped while read, started again) and refuses a
// volume with data; a stopped instance renamed takes its data along and
// leaves the old volumes.
func TestSeedAndRenameInstance(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.eng.Mu.Lock()
	b.eng.Files["demo_pgdata"] = map[string][]byte{"PG_VERSION": []byte("15")}
	b.eng.Mu.Unlock()
	load := func(instance string) *compose.Project {
		p, err := compose.Load(context.Background(), compose.Options{WorkingDir: b.dir, Instance: instance, Environ: []string{"PATH=/usr/bin"}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := load("a")
	if _, err := b.o.Up(t.Context(), a, UpOptions{FromInstance: "main", WaitTimeout: 5e9}); err != nil {
		t.Fatal(err)
	}
	if got := string(b.eng.Files["demo-a_pgdata"]["PG_VERSION"]); got != "15" {
		t.Fatalf("the seeded volume holds %q", got)
	}
	if !b.rec.has("Seeding", "demo-db-1") || b.container("demo-db-1").State != "running" {
		t.Fatalf("the source's db was not stopped and started again: %v", b.rec.events)
	}
	_, err := b.o.Up(t.Context(), load("a"), UpOptions{FromInstance: "main", WaitTimeout: 5e9})
	if err == nil || !strings.Contains(err.Error(), "has data") {
		t.Fatalf("a second seed: %v", err)
	}
	if _, err := b.o.Up(t.Context(), load("c"), UpOptions{FromInstance: "nosuch", WaitTimeout: 5e9}); err == nil || !strings.Contains(err.Error(), "no volume") {
		t.Fatalf("a source that does not exist: %v", err)
	}
	if _, err := b.o.RenameInstance(t.Context(), load("a"), "b"); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("renaming a running instance: %v", err)
	}
	if err := b.o.Stop(t.Context(), load("a"), StopOptions{}); err != nil {
		t.Fatal(err)
	}
	kept, err := b.o.RenameInstance(t.Context(), load("a"), "b")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kept, "demo-a_pgdata") || string(b.eng.Files["demo-b_pgdata"]["PG_VERSION"]) != "15" || b.eng.ByName("demo-a-db-1") != nil {
		t.Fatalf("rename: kept %v, files %v", kept, b.eng.Files)
	}
	if _, ok := b.eng.VolumesByName["demo-a_pgdata"]; !ok {
		t.Fatal("rename removed the old volume")
	}
	if _, err := b.o.RenameInstance(t.Context(), load("b"), "a"); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("renaming into a name whose volume stays: %v", err)
	}
}
