package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/graph"
)

// StopOptions are the flags of `stop` and `restart`.
type StopOptions struct {
	Services []string
	Timeout  *time.Duration
}

// Stop stops the selected services' containers, keeping them.
func (o *Orchestrator) Stop(ctx context.Context, p *compose.Project, opts StopOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	if err := o.stopHosts(ctx, p, hosts); err != nil {
		return err
	}
	if len(opts.Services) == 0 {
		if err := o.reach().stop(ctx, p.Name()); err != nil {
			return err
		}
	}
	return o.stopOrdered(ctx, p, containers, opts.Timeout)
}

// dependents maps each service to the services that depend on it: the
// model's depends_on for the services the file declares, the containers'
// depends_on labels for the others (compose-made containers, -p NAME).
// Edges that would close a cycle are dropped, so stopping never deadlocks.
func dependents(p *compose.Project, cs []Container) map[string][]string {
	deps := map[string][]string{} // service -> what it depends on
	for name, svc := range p.Model.Services {
		deps[name] = sortedKeys(svc.DependsOn)
	}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		if _, inModel := p.Model.Services[svc]; inModel {
			continue
		}
		for _, part := range strings.Split(c.Labels[LabelDependsOn], ",") {
			if dep, _, _ := strings.Cut(part, ":"); dep != "" && !slices.Contains(deps[svc], dep) {
				deps[svc] = append(deps[svc], dep)
			}
		}
	}
	// Every name is a node: a leaf known only from a label (or behind an
	// inactive profile) still waits for what depends on it.
	nodes := slices.Collect(maps.Keys(deps))
	for _, ds := range deps {
		nodes = append(nodes, ds...)
	}
	return graph.New(nodes, func(s string) []string { return deps[s] }).Dependents()
}

// stopOrdered stops each container once everything depending on it has
// stopped; independent containers stop in parallel. Waits end with ctx.
func (o *Orchestrator) stopOrdered(ctx context.Context, p *compose.Project, cs []Container, timeout *time.Duration) error {
	deps := dependents(p, cs)
	// A service counts as stopped once all its containers are (a leftover
	// of an interrupted recreate, or a compose --scale project, has more
	// than one).
	left := map[string]*sync.WaitGroup{}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		if left[svc] == nil {
			left[svc] = &sync.WaitGroup{}
		}
		left[svc].Add(1)
	}
	done := map[string]chan struct{}{}
	for svc, wg := range left {
		done[svc] = make(chan struct{})
		go func() { wg.Wait(); close(done[svc]) }()
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, c := range cs {
		svc := c.Labels[LabelService]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer left[svc].Done()
			for _, dependent := range deps[svc] {
				if ch, ok := done[dependent]; ok && dependent != svc {
					select {
					case <-ch:
					case <-ctx.Done():
						return
					}
				}
			}
			if err := o.stopOne(ctx, p, c, timeout); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func (o *Orchestrator) stopOne(ctx context.Context, p *compose.Project, c Container, timeout *time.Duration) error {
	if c.State != "running" && c.State != "restarting" && c.State != "paused" {
		return nil
	}
	svc := c.Labels[LabelService]
	wait, signal := o.stopSettings(p, svc, timeout)
	o.emit(Event{Service: svc, Name: c.Name, Status: "Stopping"})
	killed, err := o.Engine.Stop(ctx, c.ID, signal, wait)
	if err != nil {
		return fmt.Errorf("stop %s: %w", c.Name, err)
	}
	if killed {
		o.emit(Event{Service: svc, Name: c.Name, Status: "Killed", Detail: fmt.Sprintf("did not stop within %s; sent SIGKILL", wait), Level: Warn})
		return nil
	}
	o.emit(Event{Service: svc, Name: c.Name, Status: "Stopped"})
	return nil
}

func (o *Orchestrator) stopSettings(p *compose.Project, svc string, timeout *time.Duration) (time.Duration, string) {
	wait, signal := 10*time.Second, ""
	if s, ok := p.Model.Services[svc]; ok {
		if s.StopGracePeriod != nil {
			wait = time.Duration(*s.StopGracePeriod)
		}
		signal = s.StopSignal
	}
	if timeout != nil {
		wait = *timeout
	}
	return wait, signal
}
