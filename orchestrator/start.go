package orchestrator

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
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
	pl, containers, err := o.planStart(ctx, p, opts)
	if err != nil {
		return err
	}
	if err := o.execute(ctx, p, pl); err != nil {
		return err
	}
	if !opts.Wait {
		return nil
	}
	return o.waitStarted(ctx, p, containers, opts.WaitTimeout)
}

// PlanStart is start's plan: the stopped containers, dependencies first,
// the remote engine's forward, then the host services.
func (o *Orchestrator) PlanStart(ctx context.Context, p *compose.Project, opts StartOptions) (*Plan, error) {
	pl, _, err := o.planStart(ctx, p, opts)
	return pl, err
}

func (o *Orchestrator) planStart(ctx context.Context, p *compose.Project, opts StartOptions) (*Plan, []Container, error) {
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, nil, err
	}
	if len(containers) == 0 && len(hosts) == 0 {
		return nil, nil, &compose.ConfigError{File: p.MainFile(), Msg: "no containers to start; run devenv up first"}
	}
	pl := &Plan{Project: p.Name()}
	plan.StartAgain(pl, p, containers, hosts, func(c Container) bool { return c.State != "running" }, nil, !o.reach().onThisMachine())
	return pl, containers, nil
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
		if !ok || plan.IsLeftover(c) {
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
