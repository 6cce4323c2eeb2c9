package orchestrator

import (
	"context"
	"errors"
	"fmt"

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
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	sig := opts.Signal
	if sig == "" {
		sig = "SIGKILL"
	}
	var errs []error
	for _, c := range containers {
		if c.State != "running" {
			continue
		}
		if !p.Declares(c.Labels[LabelService]) && len(p.Files) > 0 && !opts.RemoveOrphans {
			continue
		}
		o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Killing", Detail: sig})
		if err := o.Engine.Kill(ctx, c.ID, sig); err != nil {
			errs = append(errs, fmt.Errorf("kill %s: %w", c.Name, err))
			continue
		}
		o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Killed", Detail: sig})
	}
	if o.Hosts != nil {
		for _, h := range hosts {
			if _, ok := o.Hosts.Status(p.Name(), h); !ok {
				continue
			}
			if err := o.Hosts.Signal(p.Name(), h, sig); err != nil {
				errs = append(errs, fmt.Errorf("kill host service %s: %w", h, err))
				continue
			}
			o.emit(Event{Service: h, Name: "host", Status: "Killed", Detail: sig})
		}
	}
	return errors.Join(errs...)
}
