package graph

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
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

func TestWalkOrderLimitAndFailure(t *testing.T) {
	// db ← api ← web, db ← worker; cache stands alone.
	deps := map[string][]string{"api": {"db"}, "web": {"api"}, "worker": {"db"}}
	g := New([]string{"db", "api", "web", "worker", "cache"}, func(n string) []string { return deps[n] })
	tests := []struct {
		name     string
		limit    int
		fail     string
		wantRun  []string
		wantErr  string
		reversed bool
	}{
		{name: "all, dependencies first", limit: 0, wantRun: []string{"api", "cache", "db", "web", "worker"}},
		{name: "one at a time", limit: 1, wantRun: []string{"api", "cache", "db", "web", "worker"}},
		{name: "a failure skips what depends on it", limit: 2, fail: "api", wantRun: []string{"api", "cache", "db", "worker"}, wantErr: "api failed"},
		{name: "reversed: dependents first", limit: 0, reversed: true, fail: "api", wantRun: []string{"api", "cache", "web", "worker"}, wantErr: "api failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			walked := g
			if tt.reversed {
				walked = g.Reverse()
			}
			var mu sync.Mutex
			done := map[string]bool{}
			var ran []string
			active, most := 0, 0
			err := walked.Walk(context.Background(), tt.limit, func(_ context.Context, n string) error {
				mu.Lock()
				for _, d := range walked.Deps(n) {
					if !done[d] {
						t.Errorf("%s ran before its dependency %s", n, d)
					}
				}
				active++
				most = max(most, active)
				ran = append(ran, n)
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
				mu.Lock()
				active--
				done[n] = true
				mu.Unlock()
				if n == tt.fail {
					return errors.New(n + " failed")
				}
				return nil
			})
			if got := fmt.Sprint(err); (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && got != tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			slices.Sort(ran)
			if !slices.Equal(ran, tt.wantRun) {
				t.Errorf("ran %v, want %v", ran, tt.wantRun)
			}
			if tt.limit > 0 && most > tt.limit {
				t.Errorf("%d ran at once, limit %d", most, tt.limit)
			}
		})
	}
}

func TestWalkRefusesACycleAndStopsOnCancel(t *testing.T) {
	cyclic := New([]string{"a", "b"}, func(n string) []string { return map[string][]string{"a": {"b"}, "b": {"a"}}[n] })
	called := false
	err := cyclic.Walk(context.Background(), 0, func(context.Context, string) error { called = true; return nil })
	if err == nil || !strings.Contains(err.Error(), "dependency cycle: a → b → a") || called {
		t.Fatalf("cycle: err = %v, called = %v", err, called)
	}
	chain := New([]string{"a", "b"}, func(n string) []string { return map[string][]string{"b": {"a"}}[n] })
	ctx, cancel := context.WithCancel(context.Background())
	var ran []string
	err = chain.Walk(ctx, 0, func(_ context.Context, n string) error { ran = append(ran, n); cancel(); return nil })
	if !errors.Is(err, context.Canceled) || !slices.Equal(ran, []string{"a"}) {
		t.Fatalf("cancel: err = %v, ran %v", err, ran)
	}
}
