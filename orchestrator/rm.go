package orchestrator

import (
	"context"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
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
	pl, err := o.PlanRm(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range pl.Steps {
		if s.Action == ActRemove {
			names = append(names, s.Name)
		}
	}
	if len(names) == 0 || (opts.Confirm != nil && !opts.Confirm(names)) {
		return nil, nil
	}
	if err := o.execute(ctx, p, pl); err != nil {
		return nil, err
	}
	return names, nil
}

// PlanRm is rm's plan: with -s, the running containers' stops, dependents
// first; the removal of each container that is (or will be) stopped.
func (o *Orchestrator) PlanRm(ctx context.Context, p *compose.Project, opts RmOptions) (*Plan, error) {
	containers, _, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, err
	}
	var targets []Container
	for _, c := range containers {
		if opts.Stop || !plan.IsUp(c) {
			targets = append(targets, c)
		}
	}
	pl := &Plan{Project: p.Name()}
	var stops []int
	if opts.Stop {
		stops = plan.Stops(pl, p, targets, nil, nil)
	}
	plan.Removes(pl, targets, opts.Volumes, stops, nil)
	return pl, nil
}
