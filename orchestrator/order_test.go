package orchestrator

import (
	"reflect"
	"slices"
	"testing"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/testproject"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// Stopping waits on every edge the labels name, a leaf that is known only
// from a label (-p NAME, no file) too.
func TestDependentsFromLabels(t *testing.T) {
	p := &compose.Project{Model: testproject.Load(t, "services:\n  x:\n    image: scratch\n").Model}
	p.Model.Services = nil
	cs := []Container{
		{Name: "demo-web-1", Labels: map[string]string{LabelService: "web", LabelDependsOn: "db:service_started:false,cache:service_healthy:true"}},
		{Name: "demo-db-1", Labels: map[string]string{LabelService: "db", LabelDependsOn: ""}},
		{Name: "demo-cache-1", Labels: map[string]string{LabelService: "cache"}},
	}
	want := map[string][]string{"cache": {"web"}, "db": {"web"}}
	if got := plan.Dependents(p, cs); !reflect.DeepEqual(got, want) {
		t.Fatalf("dependents %v, want %v", got, want)
	}
}

// An optional dependency behind an inactive profile that has a container
// still starts first.
func TestStartOrderOptionalDependencyOutsideModel(t *testing.T) {
	p := testproject.Load(t, `services:
  app:
    image: scratch
    depends_on:
      zdb:
        condition: service_started
        required: false
  zdb:
    image: scratch
    profiles: [later]
`)
	if _, inModel := p.Model.Services["zdb"]; inModel {
		t.Fatal("zdb should be outside the model (inactive profile)")
	}
	if got := plan.StartOrder(p, []string{"app", "zdb"}); !slices.Equal(got, []string{"zdb", "app"}) {
		t.Fatalf("start order %v, want [zdb app]", got)
	}
}

// ps and health take compose services and host services in any order, and
// refuse an unknown name wherever it stands.
func TestPsAndHealthTakeMixedNames(t *testing.T) {
	b := newBed(t, hostStack(45001, 45002))
	for _, names := range [][]string{{"db", "backend"}, {"backend", "db"}} {
		if _, err := b.o.Ps(t.Context(), b.project(), PsOptions{Services: names}); err != nil {
			t.Errorf("ps %v: %v", names, err)
		}
	}
	for _, names := range [][]string{{"backend", "bogus"}, {"db", "bogus"}} {
		if _, err := b.o.Ps(t.Context(), b.project(), PsOptions{Services: names}); err == nil {
			t.Errorf("ps %v: unknown name accepted", names)
		}
		if _, err := b.o.Health(t.Context(), b.project(), names); err == nil {
			t.Errorf("health %v: unknown name accepted", names)
		}
	}
}
