package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// DownOptions are the flags of `down`.
type DownOptions struct {
	Timeout       *time.Duration
	Volumes       bool
	RemoveOrphans bool
	// RemoveImages is compose's --rmi: "all" removes the services' images,
	// "local" those without an image: name (none: devenv does not build).
	RemoveImages string
}

// Down stops the project's containers in reverse dependency order, in
// parallel where possible, removes them and the project's networks, and
// removes volumes only when asked: with a compose file, the file's own
// volumes that are not external and not used only by inactive services
// (what docker compose down -v removes); by name alone (-p NAME), every
// volume labelled for the project. Only resources carrying the project's
// label are touched, and never those of a same-named project in another
// directory.
func (o *Orchestrator) Down(ctx context.Context, p *compose.Project, opts DownOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	pl, err := o.PlanDown(ctx, p, opts)
	if err != nil {
		return err
	}
	return o.execute(ctx, p, pl)
}

// PlanDown is down's plan. Host services depend on the containers: they
// stop first, all of them, so no process of the project is left; then the
// remote engine's forward, the containers (dependents first) and their
// removal, and after every removal the relay, networks, images (--rmi) and
// volumes (-v).
func (o *Orchestrator) PlanDown(ctx context.Context, p *compose.Project, opts DownOptions) (*Plan, error) {
	obs, err := Observe(ctx, o.Engine, p.Name(), false)
	if err != nil {
		return nil, err
	}
	if err := o.checkSameDir(p, append(slices.Clone(obs.Containers), obs.OneOffs...)); err != nil {
		return nil, err
	}
	pl := &Plan{Project: p.Name()}
	after := o.hostStops(pl, p, o.hostsWithState(p))
	if !o.reach().onThisMachine() {
		after = []int{pl.Add(Step{Action: ActStopForward, Name: p.Name(), After: after})}
	}
	var targets []Container
	for _, c := range obs.Containers {
		// Without a compose file (-p NAME), every container of the project
		// is the project's.
		if p.Declares(c.Labels[LabelService]) || opts.RemoveOrphans || len(p.Files) == 0 {
			targets = append(targets, c)
		} else {
			o.warn(c.Labels[LabelService], fmt.Sprintf("orphan container %s left in place; --remove-orphans removes it", c.Name))
		}
	}
	// One-off containers (run) go with the project, as in compose.
	targets = append(targets, obs.OneOffs...)
	removed := slices.Concat(after, plan.Removes(pl, targets, opts.Volumes, plan.Stops(pl, p, targets, opts.Timeout, after), after))
	if !o.reach().onThisMachine() {
		pl.Add(Step{Action: ActRemoveRelay, Name: p.Name(), After: slices.Clone(removed)})
	}
	for _, n := range obs.Networks {
		if n.Labels[LabelProject] == p.Name() {
			pl.Add(Step{Action: ActRemoveNetwork, Name: n.Name, ID: n.ID, After: slices.Clone(removed)})
		}
	}
	for _, si := range plan.DownImages(p, opts.RemoveImages) {
		pl.Add(Step{Action: ActRemoveImage, Name: si[1], Reason: "the image of " + si[0], After: slices.Clone(removed)})
	}
	if opts.Volumes {
		for _, v := range plan.DownVolumes(p, obs.Volumes) {
			pl.Add(Step{Action: ActRemoveVolume, Name: v, After: slices.Clone(removed)})
		}
	}
	return pl, nil
}
