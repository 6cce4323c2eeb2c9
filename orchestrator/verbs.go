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

// TopRow is one process of a service's container.
type TopRow struct {
	Service   string
	Container string
	Values    []string
}

// Top lists the processes of the selected services' running containers,
// with the engine's column titles.
func (o *Orchestrator) Top(ctx context.Context, p *compose.Project, services []string) ([]string, []TopRow, error) {
	containers, _, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return nil, nil, err
	}
	var titles []string
	var rows []TopRow
	for _, c := range containers {
		if c.State != "running" {
			continue
		}
		t, procs, err := o.Engine.Top(ctx, c.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("top %s: %w", c.Name, err)
		}
		titles = t
		for _, pr := range procs {
			rows = append(rows, TopRow{Service: c.Labels[LabelService], Container: c.Name, Values: pr})
		}
	}
	return titles, rows, nil
}

// ImageRow is the image of one of the project's containers.
type ImageRow struct {
	Container string
	Image     Image
	Ref       string // as the container was created with
}

// Images lists the image each selected container was created from.
func (o *Orchestrator) Images(ctx context.Context, p *compose.Project, services []string) ([]ImageRow, error) {
	containers, _, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return nil, err
	}
	var rows []ImageRow
	for _, c := range containers {
		id := c.ImageID
		if id == "" {
			id = c.Image
		}
		im, err := o.Engine.ImageInspect(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("image of %s: %w", c.Name, err)
		}
		rows = append(rows, ImageRow{Container: c.Name, Image: im, Ref: c.Image})
	}
	return rows, nil
}

// ProjectVolumes lists the volumes labelled for the project; with
// services, only those their containers mount.
func (o *Orchestrator) ProjectVolumes(ctx context.Context, p *compose.Project, services []string) ([]Volume, error) {
	vols, err := o.Engine.Volumes(ctx, []string{LabelProject + "=" + p.Name()})
	if err != nil || len(services) == 0 {
		return vols, err
	}
	used := map[string]bool{}
	for _, name := range services {
		svc, ok := p.Model.Services[name]
		if !ok {
			return nil, &compose.UnknownServiceError{Service: name, File: p.MainFile()}
		}
		for _, v := range svc.Volumes {
			if vol, ok := p.Model.Volumes[v.Source]; ok {
				used[vol.Name] = true
			}
		}
	}
	var out []Volume
	for _, v := range vols {
		if used[v.Name] {
			out = append(out, v)
		}
	}
	return out, nil
}
