// Package graph is the one dependency graph devenv walks: compose
// services, host services and the containers a project already has.
// Every order, closure, reverse edge and cycle check goes through it, so
// "what comes first" has one answer.
package graph

import (
	"slices"
	"strings"
)

// Graph is a set of named nodes and, for each, the nodes it depends on.
// Dependencies on names outside the graph are dropped when it is built.
type Graph struct {
	nodes []string
	deps  map[string][]string
}

// New builds the graph of nodes, where deps(n) names what n depends on.
func New(nodes []string, deps func(string) []string) *Graph {
	g := &Graph{nodes: slices.Compact(slices.Sorted(slices.Values(nodes))), deps: map[string][]string{}}
	for _, n := range g.nodes {
		var ds []string
		for _, d := range deps(n) {
			if g.Has(d) && !slices.Contains(ds, d) {
				ds = append(ds, d)
			}
		}
		slices.Sort(ds)
		g.deps[n] = ds
	}
	return g
}

// Has says whether n is a node of the graph.
func (g *Graph) Has(n string) bool {
	_, ok := slices.BinarySearch(g.nodes, n)
	return ok
}

// Deps is what n depends on, sorted.
func (g *Graph) Deps(n string) []string { return g.deps[n] }

// Order is names sorted so that each comes after those of its
// dependencies that are among names too; names outside the graph keep
// their place relative to the others. Cycles do not stop it: the first
// name reached wins.
func (g *Graph) Order(names []string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, d := range g.deps[n] {
			if slices.Contains(names, d) {
				visit(d)
			}
		}
		out = append(out, n)
	}
	for _, n := range names {
		visit(n)
	}
	return out
}

// Closure is names plus everything they depend on, transitively, sorted.
func (g *Graph) Closure(names []string) []string {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, d := range g.deps[n] {
			visit(d)
		}
	}
	for _, n := range names {
		visit(n)
	}
	return slices.Sorted(func(yield func(string) bool) {
		for n := range seen {
			if !yield(n) {
				return
			}
		}
	})
}

// Dependents maps each node to the nodes that depend on it. An edge that
// would close a cycle is left out, so a walk in reverse order over it
// always ends.
func (g *Graph) Dependents() map[string][]string {
	out := map[string][]string{}
	state := map[string]int{} // 0 new, 1 on the path, 2 done
	var visit func(string)
	visit = func(n string) {
		state[n] = 1
		for _, d := range g.deps[n] {
			if state[d] == 1 {
				continue
			}
			out[d] = append(out[d], n)
			if state[d] == 0 {
				visit(d)
			}
		}
		state[n] = 2
	}
	for _, n := range g.nodes {
		if state[n] == 0 {
			visit(n)
		}
	}
	return out
}

// Cycle is the first dependency cycle found, or nil.
func (g *Graph) Cycle() *CycleError {
	state := map[string]int{}
	var path []string
	var visit func(string) *CycleError
	visit = func(n string) *CycleError {
		state[n] = 1
		path = append(path, n)
		for _, d := range g.deps[n] {
			switch state[d] {
			case 1:
				start := slices.Index(path, d)
				return &CycleError{Path: append(slices.Clone(path[start:]), d)}
			case 0:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
		return nil
	}
	for _, n := range g.nodes {
		if state[n] == 0 {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// CycleError names a dependency cycle, first node repeated at the end.
type CycleError struct{ Path []string }

func (e *CycleError) Error() string { return "dependency cycle: " + e.String() }

// String is the cycle as "a → b → a".
func (e *CycleError) String() string { return strings.Join(e.Path, " → ") }
