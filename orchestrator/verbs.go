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

// Pause freezes, and Unpause thaws, the selected services' containers.
func (o *Orchestrator) Pause(ctx context.Context, p *compose.Project, services []string, pause bool) error {
	containers, _, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range containers {
		svc := c.Labels[LabelService]
		switch {
		case pause && c.State == "running":
			o.emit(Event{Service: svc, Name: c.Name, Status: "Pausing"})
			if err := o.Engine.Pause(ctx, c.ID); err != nil {
				errs = append(errs, fmt.Errorf("pause %s: %w", c.Name, err))
				continue
			}
			o.emit(Event{Service: svc, Name: c.Name, Status: "Paused"})
		case !pause && c.State == "paused":
			o.emit(Event{Service: svc, Name: c.Name, Status: "Unpausing"})
			if err := o.Engine.Unpause(ctx, c.ID); err != nil {
				errs = append(errs, fmt.Errorf("unpause %s: %w", c.Name, err))
				continue
			}
			o.emit(Event{Service: svc, Name: c.Name, Status: "Unpaused"})
		}
	}
	return errors.Join(errs...)
}

// RmOptions are the flags of `rm`.
type RmOptions struct {
	Services []string
	// Stop stops running containers first (-s); otherwise they are left.
	Stop bool
	// Volumes removes the containers' anonymous volumes (-v).
	Volumes bool
}

// Rm removes the selected services' stopped containers, as compose's rm
// does; named volumes always stay.
func (o *Orchestrator) Rm(ctx context.Context, p *compose.Project, opts RmOptions) ([]string, error) {
	containers, _, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, err
	}
	if opts.Stop {
		if err := o.stopOrdered(ctx, p, containers, nil); err != nil {
			return nil, err
		}
	}
	var targets []Container
	for _, c := range containers {
		if opts.Stop || (c.State != "running" && c.State != "paused" && c.State != "restarting") {
			targets = append(targets, c)
		}
	}
	if err := o.removeContainers(ctx, targets, opts.Volumes); err != nil {
		return nil, err
	}
	var names []string
	for _, c := range targets {
		names = append(names, c.Name)
	}
	return names, nil
}
