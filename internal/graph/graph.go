// Package graph is the one dependency graph devenv walks: compose
// services, host services and the containers a project already has.
// Every order, closure, reverse edge and cycle check goes through it, so
// "what comes first" has one answer.
package graph

import (
	"context"
	"errors"
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

// Reverse is the graph with every edge turned: a node's dependencies
// become its dependents, so a walk visits dependents first (stop order).
func (g *Graph) Reverse() *Graph {
	rev := g.Dependents()
	return New(g.nodes, func(n string) []string { return rev[n] })
}

// Walk calls fn for every node once fn has returned for each of its
// dependencies, running at most limit calls at a time (any number when
// limit < 1). A node whose dependency failed is not called. It returns
// the calls' errors joined, a cycle's error before calling anything, or
// the context's error once it ends (nodes not yet called stay uncalled).
func (g *Graph) Walk(ctx context.Context, limit int, fn func(context.Context, string) error) error {
	if c := g.Cycle(); c != nil {
		return c
	}
	if limit < 1 {
		limit = len(g.nodes)
	}
	sem := make(chan struct{}, max(limit, 1))
	type result struct {
		node string
		err  error
	}
	results := make(chan result)
	waiting := map[string]int{}
	dependents := map[string][]string{}
	for _, n := range g.nodes {
		waiting[n] = len(g.deps[n])
		for _, d := range g.deps[n] {
			dependents[d] = append(dependents[d], n)
		}
	}
	var errs []error
	failed := map[string]bool{}
	running, left := 0, len(g.nodes)
	launch := func(n string) {
		running++
		go func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results <- result{n, ctx.Err()}
				return
			}
			err := ctx.Err()
			if err == nil {
				err = fn(ctx, n)
			}
			<-sem
			results <- result{n, err}
		}()
	}
	// settle marks n done and releases (or, after a failure, skips) what
	// waits on it.
	var settle func(n string, bad bool)
	settle = func(n string, bad bool) {
		left--
		for _, d := range dependents[n] {
			if bad {
				failed[d] = true
			}
			if waiting[d]--; waiting[d] == 0 {
				if failed[d] {
					settle(d, true)
				} else {
					launch(d)
				}
			}
		}
	}
	for _, n := range g.nodes {
		if waiting[n] == 0 {
			launch(n)
		}
	}
	// Every node left is running or waits on one that runs.
	for left > 0 && running > 0 {
		r := <-results
		running--
		if r.err != nil && !errors.Is(r.err, ctx.Err()) {
			errs = append(errs, r.err)
		}
		settle(r.node, r.err != nil)
	}
	return errors.Join(append([]error{ctx.Err()}, errs...)...)
}
