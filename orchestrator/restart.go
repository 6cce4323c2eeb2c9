package orchestrator

import (
	"context"

	"github.com/devenv-dev/devenv/compose"
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
	plan, err := o.PlanRestart(ctx, p, opts)
	if err != nil {
		return err
	}
	return o.execute(ctx, p, plan)
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
	plan := &Plan{Project: p.Name()}
	stops := o.planHostStops(plan, p, o.hostsToStop(p, hosts))
	stops = append(stops, o.planStops(plan, p, containers, opts.Timeout, stops)...)
	o.planStartAgain(plan, p, containers, hosts, func(Container) bool { return true }, stops)
	return plan, nil
}
