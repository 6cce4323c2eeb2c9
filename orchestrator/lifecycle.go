package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// DownOptions are the flags of `down`.
type DownOptions struct {
	Timeout       *time.Duration
	Volumes       bool
	RemoveOrphans bool
}

// StopOptions are the flags of `stop` and `restart`.
type StopOptions struct {
	Services []string
	Timeout  *time.Duration
}

// Down stops the project's containers in reverse dependency order, in
// parallel where possible, removes them and the project's networks, and
// removes its named volumes only when asked. Only resources carrying the
// project's label are touched.
func (o *Orchestrator) Down(ctx context.Context, p *compose.Project, opts DownOptions) error {
	obs, err := Observe(ctx, o.Engine, p.Name(), false)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, s := range append(p.Model.ServiceNames(), sortedKeys(p.Model.DisabledServices)...) {
		known[s] = true
	}
	var targets []Container
	for _, c := range obs.Containers {
		// Without a compose file (-p NAME), every container of the project
		// is the project's.
		if known[c.Labels[LabelService]] || opts.RemoveOrphans || len(p.Files) == 0 {
			targets = append(targets, c)
		} else {
			o.warn(c.Labels[LabelService], fmt.Sprintf("orphan container %s left in place; --remove-orphans removes it", c.Name))
		}
	}
	if err := o.stopOrdered(ctx, p, targets, opts.Timeout); err != nil {
		return err
	}
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Removing"})
			if err := o.Engine.Remove(ctx, c.ID, opts.Volumes); err != nil && !errors.Is(err, ErrNotFound) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("remove %s: %w", c.Name, err))
				mu.Unlock()
				return
			}
			o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Removed"})
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, n := range obs.Networks {
		if n.Labels[LabelProject] != p.Name() {
			continue
		}
		o.emit(Event{Name: n.Name, Status: "Removing"})
		if err := o.Engine.RemoveNetwork(ctx, n.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remove network %s: %w", n.Name, err)
		}
		o.emit(Event{Name: n.Name, Status: "Removed"})
	}
	if opts.Volumes {
		for _, v := range obs.Volumes {
			if v.Labels[LabelProject] != p.Name() {
				continue // never another project's volume
			}
			o.emit(Event{Name: v.Name, Status: "Removing"})
			if err := o.Engine.RemoveVolume(ctx, v.Name); err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("remove volume %s: %w", v.Name, err)
			}
			o.emit(Event{Name: v.Name, Status: "Removed"})
		}
	}
	return nil
}

// Stop stops the selected services' containers, keeping them.
func (o *Orchestrator) Stop(ctx context.Context, p *compose.Project, opts StopOptions) error {
	targets, err := o.selectContainers(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	return o.stopOrdered(ctx, p, targets, opts.Timeout)
}

// Start starts existing containers of the selected services in dependency
// order; it creates nothing (as compose's start).
func (o *Orchestrator) Start(ctx context.Context, p *compose.Project, services []string) error {
	targets, err := o.selectContainers(ctx, p, services)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return &compose.ConfigError{File: p.MainFile(), Msg: "no containers to start; run devenv up first"}
	}
	byService := map[string]Container{}
	for _, c := range targets {
		byService[c.Labels[LabelService]] = c
	}
	order := startOrder(p, sortedKeys(byService))
	for _, s := range order {
		c := byService[s]
		if c.State == "running" {
			continue
		}
		if _, err := o.start(ctx, s, c.Name, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// Restart stops then starts the selected services.
func (o *Orchestrator) Restart(ctx context.Context, p *compose.Project, opts StopOptions) error {
	if err := o.Stop(ctx, p, opts); err != nil {
		return err
	}
	return o.Start(ctx, p, opts.Services)
}

func (o *Orchestrator) selectContainers(ctx context.Context, p *compose.Project, services []string) ([]Container, error) {
	sel, err := p.SelectServices(services)
	if err != nil {
		return nil, err
	}
	obs, err := Observe(ctx, o.Engine, p.Name(), false)
	if err != nil {
		return nil, err
	}
	var out []Container
	for _, c := range obs.Containers {
		if slices.Contains(sel, c.Labels[LabelService]) || (len(p.Files) == 0 && len(services) == 0) {
			out = append(out, c)
		}
	}
	return out, nil
}

// startOrder sorts services so that dependencies come first.
func startOrder(p *compose.Project, services []string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		if svc, ok := p.Model.Services[s]; ok {
			for _, dep := range sortedKeys(svc.DependsOn) {
				if slices.Contains(services, dep) {
					visit(dep)
				}
			}
		}
		out = append(out, s)
	}
	for _, s := range services {
		visit(s)
	}
	return out
}

// dependents maps each service to the services that depend on it, from the
// containers' depends_on labels (so compose-made containers work too) and
// the model.
func dependents(p *compose.Project, cs []Container) map[string][]string {
	out := map[string][]string{}
	add := func(dependent, dep string) {
		if !slices.Contains(out[dep], dependent) {
			out[dep] = append(out[dep], dependent)
		}
	}
	for _, c := range cs {
		for _, part := range strings.Split(c.Labels[LabelDependsOn], ",") {
			if dep, _, _ := strings.Cut(part, ":"); dep != "" {
				add(c.Labels[LabelService], dep)
			}
		}
	}
	for name, svc := range p.Model.Services {
		for dep := range svc.DependsOn {
			add(name, dep)
		}
	}
	return out
}

// stopOrdered stops each container once everything depending on it has
// stopped; independent containers stop in parallel.
func (o *Orchestrator) stopOrdered(ctx context.Context, p *compose.Project, cs []Container, timeout *time.Duration) error {
	deps := dependents(p, cs)
	done := map[string]chan struct{}{}
	for _, c := range cs {
		done[c.Labels[LabelService]] = make(chan struct{})
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
			defer close(done[svc])
			for _, dependent := range deps[svc] {
				if ch, ok := done[dependent]; ok && dependent != svc {
					<-ch
				}
			}
			if c.State != "running" && c.State != "restarting" && c.State != "paused" {
				return
			}
			wait, signal := o.stopSettings(p, svc, timeout)
			o.emit(Event{Service: svc, Name: c.Name, Status: "Stopping"})
			killed, err := o.Engine.Stop(ctx, c.ID, signal, wait)
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("stop %s: %w", c.Name, err))
				mu.Unlock()
				return
			}
			if killed {
				o.emit(Event{Service: svc, Name: c.Name, Status: "Killed", Detail: fmt.Sprintf("did not stop within %s; sent SIGKILL", wait), Level: Warn})
				return
			}
			o.emit(Event{Service: svc, Name: c.Name, Status: "Stopped"})
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
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
