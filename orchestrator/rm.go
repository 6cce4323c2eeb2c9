package orchestrator

import (
	"context"

	"github.com/devenv-dev/devenv/compose"
)

// RmOptions are the flags of `rm`.
type RmOptions struct {
	Services []string
	// Stop stops running containers first (-s); otherwise they are left.
	Stop bool
	// Volumes removes the containers' anonymous volumes (-v).
	Volumes bool
	// Confirm is asked with the names before anything is removed; nil
	// removes without asking (-f).
	Confirm func(names []string) bool
}

// Rm removes the selected services' stopped containers, as compose's rm
// does; named volumes always stay.
func (o *Orchestrator) Rm(ctx context.Context, p *compose.Project, opts RmOptions) ([]string, error) {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return nil, err
	}
	defer unlock()
	containers, _, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, err
	}
	var targets []Container
	var names []string
	for _, c := range containers {
		if opts.Stop || (c.State != "running" && c.State != "paused" && c.State != "restarting") {
			targets = append(targets, c)
			names = append(names, c.Name)
		}
	}
	if len(targets) == 0 || (opts.Confirm != nil && !opts.Confirm(names)) {
		return nil, nil
	}
	if opts.Stop {
		if err := o.stopOrdered(ctx, p, targets, nil); err != nil {
			return nil, err
		}
	}
	if err := o.removeContainers(ctx, targets, opts.Volumes); err != nil {
		return nil, err
	}
	return names, nil
}
