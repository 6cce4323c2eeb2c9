package orchestrator

import (
	"context"

	"github.com/devenv-dev/devenv/compose"
)

// KillOptions are the flags of `kill`.
type KillOptions struct {
	Services      []string
	Signal        string // default SIGKILL
	RemoveOrphans bool
}

// Kill sends a signal to the running containers of the selected services
// (and, to the process groups of host services devenv runs), as compose's
// kill does.
func (o *Orchestrator) Kill(ctx context.Context, p *compose.Project, opts KillOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	pl, err := o.PlanKill(ctx, p, opts)
	if err != nil {
		return err
	}
	return o.execute(ctx, p, pl)
}

// PlanKill is kill's plan: one signal to each running container of the
// selected services (orphans only with --remove-orphans) and to each
// running host service, all at once.
func (o *Orchestrator) PlanKill(ctx context.Context, p *compose.Project, opts KillOptions) (*Plan, error) {
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, err
	}
	sig := opts.Signal
	if sig == "" {
		sig = "SIGKILL"
	}
	pl := &Plan{Project: p.Name()}
	for _, c := range containers {
		if c.State != "running" {
			continue
		}
		if !p.Declares(c.Labels[LabelService]) && len(p.Files) > 0 && !opts.RemoveOrphans {
			continue
		}
		pl.Add(Step{Action: ActKill, Service: c.Labels[LabelService], Name: c.Name, Existing: &c, Signal: sig, Reason: sig})
	}
	if o.Hosts != nil {
		for _, h := range hosts {
			if _, ok := o.Hosts.Status(p.Name(), h); ok {
				pl.Add(Step{Action: ActSignalHost, Service: h, Signal: sig, Reason: sig})
			}
		}
	}
	return pl, nil
}
