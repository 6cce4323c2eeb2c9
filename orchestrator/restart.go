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
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	if len(containers) == 0 && len(hosts) == 0 {
		return &compose.ConfigError{File: p.MainFile(), Msg: "no containers to restart; run devenv up first"}
	}
	if err := o.stopHosts(ctx, p, hosts); err != nil {
		return err
	}
	if err := o.stopOrdered(ctx, p, containers, opts.Timeout); err != nil {
		return err
	}
	return o.startAgain(ctx, p, containers, hosts, func(Container) bool { return true })
}
