package orchestrator

import (
	"context"
	"slices"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// Restart stops the selected services, then starts the same containers in
// dependency order. It starts what it stopped without asking the engine
// again: a current engine may still list a container as running right
// after its stop returned.
func (o *Orchestrator) Restart(ctx context.Context, p *compose.Project, opts StopOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	pl, err := o.PlanRestart(ctx, p, opts)
	if err != nil {
		return err
	}
	return o.execute(ctx, p, pl)
}

// PlanRestart is restart's plan: the host services' and containers' stops,
// then every selected container's start, dependencies first, the remote
// engine's forward and the host services.
func (o *Orchestrator) PlanRestart(ctx context.Context, p *compose.Project, opts StopOptions) (*Plan, error) {
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, err
	}
	if len(containers) == 0 && len(hosts) == 0 {
		return nil, &compose.ConfigError{File: p.MainFile(), Msg: "no containers to restart; run devenv up first"}
	}
	pl := &Plan{Project: p.Name()}
	stops := o.hostStops(pl, p, o.hostsToStop(p, hosts))
	stops = slices.Concat(stops, plan.Stops(pl, p, containers, opts.Timeout, stops))
	plan.StartAgain(pl, p, containers, hosts, func(Container) bool { return true }, stops, !o.reach().onThisMachine())
	return pl, nil
}
