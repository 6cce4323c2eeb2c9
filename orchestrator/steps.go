package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/graph"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// execute runs a lifecycle plan: each step once the steps it comes after
// have finished, independent steps in parallel (at most o.Parallel at a
// time when set). A step whose predecessor failed does not run. Every
// decision was made when the plan was; each step is one call.
func (o *Orchestrator) execute(ctx context.Context, p *compose.Project, pl *Plan) error {
	key := func(i int) string { return fmt.Sprintf("%06d", i) }
	nodes := make([]string, len(pl.Steps))
	for i := range pl.Steps {
		nodes[i] = key(i)
	}
	g := graph.New(nodes, func(n string) []string {
		i, _ := strconv.Atoi(n)
		var deps []string
		for _, a := range pl.Steps[i].After {
			deps = append(deps, key(a))
		}
		return deps
	})
	var mu sync.Mutex
	ran := make([]bool, len(pl.Steps))
	err := g.Walk(ctx, o.Parallel, func(ctx context.Context, n string) error {
		i, _ := strconv.Atoi(n)
		mu.Lock()
		ran[i] = true
		mu.Unlock()
		return o.runStep(ctx, p, pl.Steps[i])
	})
	if err != nil && ctx.Err() == nil {
		// Say what a failure kept from running, so nothing is left
		// silently in place.
		for i, s := range pl.Steps {
			if !ran[i] {
				o.emit(Event{Service: s.Service, Name: s.Name, Status: "Skipped", Detail: string(s.Action) + ": a step before it failed", Level: Warn})
			}
		}
	}
	return err
}

// runStep makes the one call the step stands for, with its events.
func (o *Orchestrator) runStep(ctx context.Context, p *compose.Project, s Step) error {
	switch s.Action {
	case ActStop:
		return o.stopContainer(ctx, s)
	case ActKill:
		o.emit(Event{Service: s.Service, Name: s.Name, Status: "Killing", Detail: s.Signal})
		if err := o.Engine.Kill(ctx, s.Existing.ID, s.Signal); err != nil {
			return fmt.Errorf("kill %s: %w", s.Name, err)
		}
		o.emit(Event{Service: s.Service, Name: s.Name, Status: "Killed", Detail: s.Signal})
	case ActRemove:
		o.emit(Event{Service: s.Service, Name: s.Name, Status: "Removing"})
		if err := o.Engine.Remove(ctx, s.Existing.ID, s.Volumes); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remove %s: %w", s.Name, err)
		}
		o.emit(Event{Service: s.Service, Name: s.Name, Status: "Removed"})
	case ActRemoveNetwork, ActRemoveVolume:
		return o.removeResource(ctx, s)
	case ActRemoveImage:
		o.emit(Event{Name: s.Name, Status: "Removing"})
		if err := o.Engine.RemoveImage(ctx, s.Name); err != nil && !errors.Is(err, ErrNotFound) {
			o.warn("", fmt.Sprintf("image %s not removed: %v", s.Name, err))
			return nil
		}
		o.emit(Event{Name: s.Name, Status: "Removed"})
	case ActStopHost:
		return o.stopHost(ctx, p, s)
	case ActForgetHost:
		_, _ = o.Hosts.Stop(ctx, p.Name(), s.Service, 0, "")
	case ActSignalHost:
		if err := o.Hosts.Signal(p.Name(), s.Service, s.Signal); err != nil {
			return fmt.Errorf("kill host service %s: %w", s.Service, err)
		}
		o.emit(Event{Service: s.Service, Name: "host", Status: "Killed", Detail: s.Signal})
	case ActStartHost:
		// With the ports the registry holds, waiting for health only where
		// another host service needs it healthy.
		ports, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
		if err != nil {
			return err
		}
		return o.upHosts(ctx, p, ports, []string{s.Service}, UpOptions{NoWait: !s.Wait})
	case ActStopForward:
		return o.reach().stop(ctx, p.Name())
	case ActRemoveRelay:
		return o.reach().removeRelay(ctx, p)
	case ActRestoreForward:
		return o.reach().restore(ctx, p)
	case ActStart:
		return o.startContainer(ctx, s.Service, s.Name, s.Existing.ID)
	default:
		return fmt.Errorf("%s: not a step devenv can run here", s)
	}
	return nil
}

func (o *Orchestrator) stopContainer(ctx context.Context, s Step) error {
	o.emit(Event{Service: s.Service, Name: s.Name, Status: "Stopping"})
	killed, err := o.Engine.Stop(ctx, s.Existing.ID, s.Signal, s.Timeout)
	if err != nil {
		return fmt.Errorf("stop %s: %w", s.Name, err)
	}
	if killed {
		o.emit(Event{Service: s.Service, Name: s.Name, Status: "Killed", Detail: fmt.Sprintf("did not stop within %s; sent SIGKILL", s.Timeout), Level: Warn})
		return nil
	}
	o.emit(Event{Service: s.Service, Name: s.Name, Status: "Stopped"})
	return nil
}

func (o *Orchestrator) stopHost(ctx context.Context, p *compose.Project, s Step) error {
	o.emit(Event{Service: s.Service, Name: "host", Status: "Stopping"})
	killed, err := o.Hosts.Stop(ctx, p.Name(), s.Service, s.Timeout, s.Signal)
	switch {
	case err != nil:
		return fmt.Errorf("stop host service %s: %w", s.Service, err)
	case killed:
		o.emit(Event{Service: s.Service, Name: "host", Status: "Killed", Detail: fmt.Sprintf("did not stop within %s; sent SIGKILL", s.Timeout), Level: Warn})
	default:
		o.emit(Event{Service: s.Service, Name: "host", Status: "Stopped"})
	}
	return nil
}

func (o *Orchestrator) removeResource(ctx context.Context, s Step) error {
	o.emit(Event{Name: s.Name, Status: "Removing"})
	var err error
	if s.Action == ActRemoveNetwork {
		err = o.Engine.RemoveNetwork(ctx, s.ID)
	} else {
		err = o.Engine.RemoveVolume(ctx, s.Name)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		what := "network"
		if s.Action == ActRemoveVolume {
			what = "volume"
		}
		return fmt.Errorf("%s %s: %w", "remove "+what, s.Name, err)
	}
	o.emit(Event{Name: s.Name, Status: "Removed"})
	return nil
}

// hostStops adds the steps that stop host services names to pl (see
// plan.HostStops), asking the supervisor which still run.
func (o *Orchestrator) hostStops(pl *Plan, p *compose.Project, names []string) []int {
	if o.Hosts == nil {
		return nil
	}
	return plan.HostStops(pl, p, names, func(name string) bool {
		_, ok := o.Hosts.Status(p.Name(), name)
		return ok
	})
}
