package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/graph"
)

// The actions of the plans of stop, start, restart, kill, rm and down:
// each step is one call to the engine or to the host-service supervisor.
const (
	ActStop          Action = "stop"
	ActKill          Action = "kill"
	ActRemove        Action = "remove"
	ActRemoveNetwork Action = "remove network"
	ActRemoveVolume  Action = "remove volume"
	ActRemoveImage   Action = "remove image"
	ActStopHost      Action = "stop host"
	// ActForgetHost clears the state a host service that no longer runs
	// left behind.
	ActForgetHost     Action = "forget host"
	ActSignalHost     Action = "signal host"
	ActStopForward    Action = "stop forward"
	ActRemoveRelay    Action = "remove relay"
	ActRestoreForward Action = "restore forward"
)

// add appends s to the plan and returns its index, for later steps' After.
func (p *Plan) add(s Step) int {
	p.Steps = append(p.Steps, s)
	return len(p.Steps) - 1
}

// execute runs a lifecycle plan: each step once the steps it comes after
// have finished, independent steps in parallel (at most o.Parallel at a
// time when set). A step whose predecessor failed does not run. Every
// decision was made when the plan was; each step is one call.
func (o *Orchestrator) execute(ctx context.Context, p *compose.Project, plan *Plan) error {
	key := func(i int) string { return fmt.Sprintf("%06d", i) }
	nodes := make([]string, len(plan.Steps))
	for i := range plan.Steps {
		nodes[i] = key(i)
	}
	g := graph.New(nodes, func(n string) []string {
		i, _ := strconv.Atoi(n)
		var deps []string
		for _, a := range plan.Steps[i].After {
			deps = append(deps, key(a))
		}
		return deps
	})
	return g.Walk(ctx, o.Parallel, func(ctx context.Context, n string) error {
		i, _ := strconv.Atoi(n)
		return o.runStep(ctx, p, plan.Steps[i])
	})
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

// planStops adds a stop step for each running container of cs: a
// container stops after every container of the services that depend on
// it, and after the steps in after. It returns the steps' indices.
func (o *Orchestrator) planStops(plan *Plan, p *compose.Project, cs []Container, timeout *time.Duration, after []int) []int {
	deps := dependents(p, cs)
	byService := map[string][]int{}
	var added []int
	// Dependents first, so the plan reads in the order it runs.
	order := startOrder(p, serviceNames(cs))
	for i := len(order) - 1; i >= 0; i-- {
		svc := order[i]
		for _, c := range cs {
			if c.Labels[LabelService] != svc || !isUp(c) {
				continue
			}
			wait, signal := o.stopSettings(p, svc, timeout)
			s := Step{Action: ActStop, Service: svc, Name: c.Name, Existing: &c, Signal: signal, Timeout: wait,
				Reason: stopReason(signal, wait), After: after}
			for _, d := range deps[svc] {
				if d != svc {
					s.After = append(s.After, byService[d]...)
				}
			}
			i := plan.add(s)
			byService[svc] = append(byService[svc], i)
			added = append(added, i)
		}
	}
	return added
}

func stopReason(signal string, wait time.Duration) string {
	if signal == "" {
		signal = "SIGTERM"
	}
	return fmt.Sprintf("%s, SIGKILL after %s", signal, wait)
}

// isUp tells a container that stop has something to stop.
func isUp(c Container) bool {
	return c.State == "running" || c.State == "restarting" || c.State == "paused"
}

// serviceNames are the services of cs, sorted, each once.
func serviceNames(cs []Container) []string {
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c.Labels[LabelService]] = true
	}
	return sortedKeys(seen)
}

// planHostStops adds the steps that stop host services names, dependents
// first and one at a time; one that no longer runs has its state cleared.
// It returns the steps' indices.
func (o *Orchestrator) planHostStops(plan *Plan, p *compose.Project, names []string) []int {
	if o.Hosts == nil {
		return nil
	}
	order := hostOrder(p, names)
	var added []int
	for i := len(order) - 1; i >= 0; i-- {
		name := order[i]
		s := Step{Action: ActStopHost, Service: name}
		if len(added) > 0 {
			s.After = []int{added[len(added)-1]}
		}
		if _, ok := o.Hosts.Status(p.Name(), name); !ok {
			s.Action, s.Reason = ActForgetHost, "not running"
		} else {
			h := p.X.Host[name]
			s.Timeout = 10 * time.Second
			if h.StopGracePeriod != "" {
				s.Timeout, _ = time.ParseDuration(h.StopGracePeriod)
			}
			s.Signal = h.StopSignal
			s.Reason = stopReason(s.Signal, s.Timeout)
		}
		added = append(added, plan.add(s))
	}
	return added
}

// planStarts adds a start step for each container of cs that want picks,
// dependencies first, after the steps in after; leftovers an interrupted
// recreate renamed aside stay stopped.
func planStarts(plan *Plan, p *compose.Project, cs []Container, want func(Container) bool, after []int) []int {
	byService := map[string][]int{}
	var added []int
	for _, svc := range startOrder(p, serviceNames(cs)) {
		for _, c := range cs {
			if c.Labels[LabelService] != svc || isLeftover(c) || !want(c) {
				continue
			}
			s := Step{Action: ActStart, Service: svc, Name: c.Name, Existing: &c, After: slicesClone(after)}
			for dep := range p.Model.Services[svc].DependsOn {
				s.After = append(s.After, byService[dep]...)
			}
			i := plan.add(s)
			byService[svc] = append(byService[svc], i)
			added = append(added, i)
		}
	}
	return added
}

func slicesClone(s []int) []int { return append([]int(nil), s...) }

// planStartAgain adds the second half of start and restart: the
// containers want picks, then the remote engine's forward, then the host
// services, one at a time.
func (o *Orchestrator) planStartAgain(plan *Plan, p *compose.Project, cs []Container, hosts []string, want func(Container) bool, after []int) {
	starts := planStarts(plan, p, cs, want, after)
	last := append(slicesClone(after), starts...)
	if !o.reach().onThisMachine() {
		last = []int{plan.add(Step{Action: ActRestoreForward, Name: p.Name(), After: last})}
	}
	for _, h := range hostOrder(p, hosts) {
		last = []int{plan.add(Step{Action: ActStartHost, Service: h, After: last, Wait: hostNeededHealthy(p, h, hosts)})}
	}
}
