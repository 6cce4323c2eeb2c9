package orchestrator

import (
	"context"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
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
	pl, err := o.PlanStop(ctx, p, opts)
	if err != nil {
		return err
	}
	return o.execute(ctx, p, pl)
}

// PlanStop is stop's plan: host services first (dependents first), the
// remote engine's forward when the whole project stops, then the running
// containers, each after those that depend on it.
func (o *Orchestrator) PlanStop(ctx context.Context, p *compose.Project, opts StopOptions) (*Plan, error) {
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Project: p.Name()}
	after := o.hostStops(pl, p, o.hostsToStop(p, hosts))
	if len(opts.Services) == 0 && !o.reach().onThisMachine() {
		after = []int{pl.Add(Step{Action: ActStopForward, Name: p.Name(), After: after})}
	}
	plan.Stops(pl, p, containers, opts.Timeout, after)
	return pl, nil
}
