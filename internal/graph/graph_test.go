package graph

import (
	"reflect"
	"strings"
	"testing"
)

func edges(m map[string]string) func(string) []string {
	return func(n string) []string {
		if m[n] == "" {
			return nil
		}
		return strings.Split(m[n], ",")
	}
}

func TestOrderClosureDependents(t *testing.T) {
	// web → api → db, web → cache, worker → db; "ghost" is not a node.
	g := New([]string{"web", "api", "db", "cache", "worker"}, edges(map[string]string{
		"web": "api,cache,ghost", "api": "db", "worker": "db",
	}))
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"order all", g.Order([]string{"web", "worker", "api", "db", "cache"}), []string{"db", "api", "cache", "web", "worker"}},
		{"order skips deps outside names", g.Order([]string{"web", "db"}), []string{"web", "db"}},
		{"order keeps unknown names", g.Order([]string{"x", "api", "db"}), []string{"x", "db", "api"}},
		{"closure", g.Closure([]string{"web"}), []string{"api", "cache", "db", "web"}},
		{"closure of a leaf", g.Closure([]string{"db"}), []string{"db"}},
		{"deps drop unknown", g.Deps("web"), []string{"api", "cache"}},
		{"dependents", g.Dependents(), map[string][]string{"api": {"web"}, "cache": {"web"}, "db": {"api", "worker"}}},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if c := g.Cycle(); c != nil {
		t.Errorf("acyclic graph reported %v", c)
	}
}

func TestCycles(t *testing.T) {
	cases := []struct {
		name       string
		deps       map[string]string
		want       string
		dependents map[string][]string
	}{
		{"self", map[string]string{"a": "a"}, "a → a", map[string][]string{}},
		{"two", map[string]string{"a": "b", "b": "a"}, "a → b → a", map[string][]string{"b": {"a"}}},
		{"behind a prefix", map[string]string{"a": "b", "b": "c", "c": "b"}, "b → c → b", map[string][]string{"b": {"a"}, "c": {"b"}}},
	}
	for _, c := range cases {
		g := New([]string{"a", "b", "c"}, edges(c.deps))
		cyc := g.Cycle()
		if cyc == nil || cyc.String() != c.want {
			t.Errorf("%s: cycle %v, want %s", c.name, cyc, c.want)
			continue
		}
		if !strings.Contains(cyc.Error(), c.want) {
			t.Errorf("%s: error %q does not name the cycle", c.name, cyc.Error())
		}
		if got := g.Dependents(); !reflect.DeepEqual(got, c.dependents) {
			t.Errorf("%s: dependents %v, want %v (the closing edge dropped)", c.name, got, c.dependents)
		}
		// Order and Closure end on a cycle.
		if got := g.Closure([]string{"a"}); len(got) == 0 {
			t.Errorf("%s: empty closure", c.name)
		}
		if got := g.Order([]string{"a", "b", "c"}); len(got) != 3 {
			t.Errorf("%s: order %v", c.name, got)
		}
	}
}
