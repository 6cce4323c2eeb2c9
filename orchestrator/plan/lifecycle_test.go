package plan

import (
	"slices"
	"testing"

	"github.com/devenv-dev/devenv/internal/testproject"
)

func container(service, name string, labels ...string) Container {
	l := map[string]string{LabelService: service, LabelProject: "demo"}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return Container{ID: "id-" + name, Name: name, State: "running", Labels: l}
}

func stepOf(t *testing.T, pl *Plan, a Action, service string) (int, Step) {
	t.Helper()
	for i, s := range pl.Steps {
		if s.Action == a && s.Service == service {
			return i, s
		}
	}
	t.Fatalf("no %s step for %s in\n%s", a, service, pl)
	return -1, Step{}
}

// A stop waits for the stops of what depends on it, also where only the
// containers' labels say so (services the file does not declare: down -p,
// orphans), and the steps before it keep their own edges however the
// caller's slice grows.
func TestStopsOrderAndEdges(t *testing.T) {
	p := testproject.Load(t, "name: demo\nservices:\n  other:\n    image: x\n")
	cs := []Container{
		container("db", "demo-db-1"),
		container("api", "demo-api-1", LabelDependsOn, "db:service_started:false"),
		container("web", "demo-web-1", LabelDependsOn, "api:service_started:false"),
	}
	pl := &Plan{}
	after := make([]int, 2, 8) // room to grow: an append must not reach the steps
	stops := Stops(pl, p, cs, nil, after)
	// The caller's later appends write into the spare room of its slices.
	grown := append(after, 99)
	_ = append(stops, 98)
	if grown[2] != 99 {
		t.Fatal("the test's slice did not grow in place")
	}
	iWeb, _ := stepOf(t, pl, ActStop, "web")
	iAPI, api := stepOf(t, pl, ActStop, "api")
	_, db := stepOf(t, pl, ActStop, "db")
	if !slices.Equal(api.After, []int{0, 0, iWeb}) || !slices.Equal(db.After, []int{0, 0, iAPI}) {
		t.Fatalf("edges: api after %v, db after %v\n%s", api.After, db.After, pl)
	}
	if pl.String() != "stop web (demo-web-1): SIGTERM, SIGKILL after 10s\nstop api (demo-api-1): SIGTERM, SIGKILL after 10s\nstop db (demo-db-1): SIGTERM, SIGKILL after 10s" {
		t.Fatalf("order:\n%s", pl)
	}
	removes := Removes(pl, cs, false, stops, stops)
	for _, i := range removes {
		if slices.Contains(pl.Steps[i].After, i) {
			t.Fatalf("a remove after itself: %v", pl.Steps[i].After)
		}
	}
}

// A host service's stop waits only for the host services that depend on
// it: one that fails keeps no unrelated one running.
func TestHostStopsWaitOnlyForDependents(t *testing.T) {
	p := testproject.Load(t, `name: demo
services:
  db:
    image: x
x-devenv:
  host:
    a: {port: 4101, command: ["true"]}
    b: {port: 4102, command: ["true"]}
    c: {port: 4103, command: ["true"], depends_on: [a]}
    d: {port: 4104, command: ["true"]}
    e: {port: 4105, command: ["true"]}
`)
	pl := &Plan{}
	HostStops(pl, p, []string{"a", "b", "c", "d", "e"}, func(string) bool { return true })
	iC, _ := stepOf(t, pl, ActStopHost, "c")
	_, a := stepOf(t, pl, ActStopHost, "a")
	_, b := stepOf(t, pl, ActStopHost, "b")
	if !slices.Equal(a.After, []int{iC}) || len(b.After) != 0 {
		t.Fatalf("a after %v (want [%d]), b after %v (want none)\n%s", a.After, iC, b.After, pl)
	}
}
