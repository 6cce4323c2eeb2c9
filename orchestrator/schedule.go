package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
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
	var wg sync.WaitGroup
	errs := make([]error, len(services))
	for i, name := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// With --no-wait, a container a host service needs healthy is
			// still waited for.
			wait := !opts.NoWait || slices.Contains(opts.readyFor, name)
			errs[i] = o.runService(ctx, wctx, d, plan, name, states, oneShot[name], wait, opts)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var out []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, errDependency) {
			out = append(out, err)
		}
	}
	if len(out) == 0 {
		for _, err := range errs {
			if err != nil {
				out = append(out, err)
			}
		}
	}
	return errors.Join(out...)
}

var errDependency = errors.New("dependency failed")

// runService waits for the service's dependencies, brings its container to
// the planned state and reports readiness to its dependants. Every way out
// releases the service's waiters, so a failure never leaves a dependant
// waiting for the timeout.
func (o *Orchestrator) runService(ctx, wctx context.Context, d *Desired, plan *Plan, name string, states map[string]*serviceState, oneShot, wait bool, opts UpOptions) error {
	st := states[name]
	defer st.release()
	ds := d.Services[name]
	if err := o.waitDeps(ctx, wctx, ds, states); err != nil {
		st.fail(err)
		return err
	}
	step, _ := plan.Step(name)
	id, err := o.converge(ctx, ds, step)
	if err != nil {
		st.fail(err)
		return err
	}
	st.id = id
	closeOnce(st.started)
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
		err = o.waitCompleted(wctx, ctx, name, id)
	default:
		err = o.waitReady(wctx, ctx, ds, id, step.Action == ActKeep)
	}
	if err != nil {
		st.fail(err)
	}
	return err
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
