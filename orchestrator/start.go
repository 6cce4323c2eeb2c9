package orchestrator

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// Start starts existing containers of the selected services in dependency
// order; it creates nothing (as compose's start). Host services with a
// command start after them.
func (o *Orchestrator) Start(ctx context.Context, p *compose.Project, opts StartOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	if len(containers) == 0 && len(hosts) == 0 {
		return &compose.ConfigError{File: p.MainFile(), Msg: "no containers to start; run devenv up first"}
	}
	if err := o.startAgain(ctx, p, containers, hosts, func(c Container) bool { return c.State != "running" }); err != nil {
		return err
	}
	if !opts.Wait {
		return nil
	}
	return o.waitStarted(ctx, p, containers, opts.WaitTimeout)
}

// startAgain starts the containers want picks in dependency order, the
// remote engine's forward and then the host services: the second half of
// both start and restart.
func (o *Orchestrator) startAgain(ctx context.Context, p *compose.Project, containers []Container, hosts []string, want func(Container) bool) error {
	if err := o.startInOrder(ctx, p, containers, want); err != nil {
		return err
	}
	if err := o.reach().restore(ctx, p); err != nil {
		return err
	}
	return o.startHosts(ctx, p, hosts)
}

// StartOptions are the flags of `start`.
type StartOptions struct {
	Services []string
	// Wait returns once the containers run and pass their healthchecks,
	// within WaitTimeout (default 2 minutes).
	Wait        bool
	WaitTimeout time.Duration
}

// waitStarted waits, in parallel, for each container of the file's
// services to run and be healthy.
func (o *Orchestrator) waitStarted(ctx context.Context, p *compose.Project, cs []Container, timeout time.Duration) error {
	d, err := BuildDesired(p, nil, o.Version)
	if err != nil {
		return err
	}
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	// Services others wait on to complete (migrations) are waited for
	// until they exit 0, as compose does.
	oneShot := map[string]bool{}
	for _, ds := range d.Services {
		for dep, cfg := range ds.DependsOn {
			if cfg.Condition == "service_completed_successfully" {
				oneShot[dep] = true
			}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(cs))
	for i, c := range cs {
		ds, ok := d.Services[c.Labels[LabelService]]
		if !ok || isLeftover(c) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if oneShot[ds.Name] {
				errs[i] = o.waitCompleted(wctx, ctx, ds.Name, c.ID)
				return
			}
			// The container's own healthcheck decides, not the file's now.
			ds := *ds
			ds.HasHealthcheck = false
			errs[i] = o.waitReady(wctx, ctx, &ds, c.ID, false)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startHosts starts host services with the ports the registry holds,
// without waiting for their health (as start does for containers).
func (o *Orchestrator) startHosts(ctx context.Context, p *compose.Project, hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	ports, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return err
	}
	return o.upHosts(ctx, p, ports, hosts, UpOptions{NoWait: true})
}

// startInOrder starts every container (for which want holds) of each
// service, dependencies first; leftovers an interrupted recreate renamed
// aside stay stopped.
func (o *Orchestrator) startInOrder(ctx context.Context, p *compose.Project, cs []Container, want func(Container) bool) error {
	byService := map[string][]Container{}
	for _, c := range cs {
		if !isLeftover(c) {
			byService[c.Labels[LabelService]] = append(byService[c.Labels[LabelService]], c)
		}
	}
	for _, s := range startOrder(p, sortedKeys(byService)) {
		for _, c := range byService[s] {
			if !want(c) {
				continue
			}
			if err := o.startContainer(ctx, s, c.Name, c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// isLeftover recognises the name recreate gives the old container while it
// swaps in the new one: 12 hex digits, an underscore, the name.
func isLeftover(c Container) bool {
	prefix, _, ok := strings.Cut(c.Name, "_")
	return ok && len(prefix) == 12 && strings.HasPrefix(c.ID, prefix)
}
