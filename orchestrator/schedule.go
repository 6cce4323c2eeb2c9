package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/internal/graph"
)

// serviceState is what dependants wait on.
type serviceState struct {
	started   chan struct{}
	ready     chan struct{}
	completed chan struct{}
	mu        sync.Mutex
	err       error
	id        string
}

func (s *serviceState) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// release lets every waiter go; failed() tells them whether to proceed.
func (s *serviceState) release() {
	closeOnce(s.started)
	closeOnce(s.ready)
	closeOnce(s.completed)
}

func (s *serviceState) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// startAll brings the services' containers to the plan, walking the
// dependency graph: a service's calls run once its dependencies' have, and
// once the conditions it declares on them (healthy, completed) hold. The
// waits for readiness run beside the walk, so a dependant that only needs
// its dependency started does not wait for its health.
func (o *Orchestrator) startAll(ctx context.Context, d *Desired, plan *Plan, services []string, opts UpOptions) error {
	states := map[string]*serviceState{}
	for _, s := range services {
		states[s] = &serviceState{started: make(chan struct{}), ready: make(chan struct{}), completed: make(chan struct{})}
	}
	// A dependency with service_completed_successfully is expected to exit.
	oneShot := map[string]bool{}
	for _, s := range services {
		for dep, cfg := range d.Services[s].DependsOn {
			if cfg.Condition == "service_completed_successfully" {
				oneShot[dep] = true
			}
		}
	}
	timeout := opts.WaitTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	var waits sync.WaitGroup
	errs := map[string]error{}
	failed := func(name string, err error) {
		states[name].fail(err)
		mu.Lock()
		errs[name] = err
		mu.Unlock()
	}
	g := graph.New(services, func(s string) []string { return sortedKeys(d.Services[s].DependsOn) })
	walked := g.Walk(ctx, o.Parallel, func(ctx context.Context, name string) error {
		st, ds := states[name], d.Services[name]
		step, _ := plan.Step(name)
		id, err := o.convergeAfterDeps(ctx, wctx, ds, step, states)
		if err != nil {
			failed(name, err)
			st.release()
			return nil // its dependants see the failure in its state
		}
		st.id = id
		closeOnce(st.started)
		waits.Add(1)
		go func() {
			defer waits.Done()
			defer st.release()
			// With --no-wait, a container a host service needs healthy is
			// still waited for.
			wait := !opts.NoWait || slices.Contains(opts.readyFor, name)
			if err := o.waitService(ctx, wctx, d, step, name, id, states, oneShot[name], wait, opts); err != nil {
				failed(name, err)
			}
		}()
		return nil
	})
	waits.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if walked != nil {
		return walked
	}
	var out, deps []error
	for _, name := range services {
		if err := errs[name]; errors.Is(err, errDependency) {
			deps = append(deps, err)
		} else if err != nil {
			out = append(out, err)
		}
	}
	if len(out) == 0 {
		out = deps
	}
	return errors.Join(out...)
}

var errDependency = errors.New("dependency failed")

// convergeAfterDeps waits for the conditions the service declares on its
// dependencies, then makes its step's calls.
func (o *Orchestrator) convergeAfterDeps(ctx, wctx context.Context, ds *DesiredService, step Step, states map[string]*serviceState) (string, error) {
	if err := o.waitDeps(ctx, wctx, ds, states); err != nil {
		return "", err
	}
	return o.converge(ctx, ds, step)
}

// waitService waits, when asked or when a dependant needs it, until the
// started service is healthy (or, for a one-shot, has exited 0).
func (o *Orchestrator) waitService(ctx, wctx context.Context, d *Desired, step Step, name, id string, states map[string]*serviceState, oneShot, wait bool, opts UpOptions) error {
	switch {
	case opts.NoStart:
		return nil
	case !wait && !needsReady(name, d, states):
		return nil
	case step.Action == ActKeep && step.Existing.State == "running" && (step.Existing.Health == "healthy" || step.Existing.Health == ""):
		// Unchanged and, per the list we already have, running and healthy
		// (or without healthcheck): no need to ask again.
		return nil
	case oneShot:
		return o.waitCompleted(wctx, ctx, name, id)
	default:
		return o.waitReady(wctx, ctx, d.Services[name], id, step.Action == ActKeep)
	}
}

// waitDeps blocks until each dependency of ds meets its condition; a
// required dependency that failed fails ds.
func (o *Orchestrator) waitDeps(ctx, wctx context.Context, ds *DesiredService, states map[string]*serviceState) error {
	for _, dep := range sortedKeys(ds.DependsOn) {
		cfg := ds.DependsOn[dep]
		other, ok := states[dep]
		if !ok {
			continue // not selected (--no-deps) or not defined
		}
		ch := other.started
		switch cfg.Condition {
		case "service_healthy":
			ch = other.ready
		case "service_completed_successfully":
			ch = other.completed
		}
		o.emit(Event{Service: ds.Name, Name: ds.Spec.Name, Status: "Waiting", Detail: fmt.Sprintf("for %s (%s)", dep, cfg.Condition)})
		select {
		case <-ch:
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("service %s: timed out waiting for %s (%s)", ds.Name, dep, cfg.Condition)
		}
		if err := other.failed(); err != nil {
			if !cfg.Required {
				o.warn(ds.Name, fmt.Sprintf("optional dependency %s failed; starting anyway", dep))
				continue
			}
			return fmt.Errorf("service %s: dependency %s failed: %w", ds.Name, dep, errDependency)
		}
	}
	return nil
}

func needsReady(name string, d *Desired, states map[string]*serviceState) bool {
	for s := range states {
		if cfg, ok := d.Services[s].DependsOn[name]; ok && cfg.Condition != "service_started" && cfg.Condition != "" {
			return true
		}
	}
	return false
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}
