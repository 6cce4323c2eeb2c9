package orchestrator

import (
	"context"
	"fmt"
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
