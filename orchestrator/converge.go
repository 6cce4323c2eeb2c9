package orchestrator

import (
	"context"
	"errors"
	"fmt"
)

// converge creates, recreates or starts the service's container as planned.
func (o *Orchestrator) converge(ctx context.Context, ds *DesiredService, step Step) (string, error) {
	name := ds.Name
	switch step.Action {
	case ActKeep:
		o.emit(Event{Service: name, Name: step.Name, Status: "Running"})
		return step.Existing.ID, nil
	case ActStart:
		return o.start(ctx, ds, step.Name, step.Existing.ID, true)
	case ActCreate:
		o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Creating"})
		id, err := o.create(ctx, ds, ds.Spec)
		if err != nil {
			return "", err
		}
		o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Created"})
		if step.NoStart {
			return id, nil
		}
		return o.start(ctx, ds, ds.Spec.Name, id, true)
	case ActRecreate:
		return o.recreate(ctx, ds, step)
	case ActRestart:
		o.emit(Event{Service: name, Name: step.Name, Status: "Restarting", Detail: step.Reason})
		if _, err := o.Engine.Stop(ctx, step.Existing.ID, ds.Spec.StopSignal, ds.StopTimeout); err != nil {
			return "", fmt.Errorf("service %s: stop %s: %w", name, step.Name, err)
		}
		return o.start(ctx, ds, step.Name, step.Existing.ID, true)
	}
	return "", fmt.Errorf("service %s: nothing planned", name)
}

// create creates the container. A container of this project and service
// that holds the name and was never started is what an interrupted devenv
// left half made (the engine finished a create its client had given up
// on): it is removed and the create tried once more.
func (o *Orchestrator) create(ctx context.Context, ds *DesiredService, spec ContainerSpec) (string, error) {
	id, err := o.Engine.Create(ctx, spec)
	if err != nil && id == "" && ctx.Err() == nil {
		if c, ok := o.halfMade(ctx, ds, spec.Name); ok {
			o.warn(ds.Name, fmt.Sprintf("removing %s, created but never started by an interrupted devenv", spec.Name))
			if rerr := o.Engine.Remove(ctx, c.ID, false); rerr == nil {
				id, err = o.Engine.Create(ctx, spec)
			}
		}
	}
	if err != nil {
		if id != "" {
			_ = o.Engine.Remove(context.WithoutCancel(ctx), id, false)
		}
		return "", fmt.Errorf("service %s: create container %s: %w", ds.Name, spec.Name, err)
	}
	return id, nil
}

func (o *Orchestrator) halfMade(ctx context.Context, ds *DesiredService, name string) (Container, bool) {
	cs, err := o.Engine.Containers(ctx, ListFilter{Names: []string{name}, All: true})
	if err != nil {
		return Container{}, false
	}
	for _, c := range cs {
		if c.Name == name && c.State == "created" && c.Labels[LabelProject] == ds.Spec.Labels[LabelProject] && c.Labels[LabelService] == ds.Name {
			return c, true
		}
	}
	return Container{}, false
}

// start starts the container and checks the engine published its ports:
// Engine 29 starts a container whose previous start failed on a taken port
// without any of them. Such a container is recreated once (keeping its
// anonymous volumes), which brings the ports back.
func (o *Orchestrator) start(ctx context.Context, ds *DesiredService, cname, id string, retry bool) (string, error) {
	if err := o.startContainer(ctx, ds.Name, cname, id); err != nil {
		return id, err
	}
	if retry && len(ds.Spec.Ports) > 0 {
		d, err := o.Engine.Inspect(ctx, id)
		if err == nil && d.Running && !sameBindings(ds.Spec.Ports, d.Published) {
			c := d.Container
			return o.recreate(ctx, ds, Step{Action: ActRecreate, Service: ds.Name, Name: cname, Existing: &c, Reason: "the engine started it without its published ports"})
		}
	}
	return id, nil
}

// startContainer starts one container, with events.
func (o *Orchestrator) startContainer(ctx context.Context, service, cname, id string) error {
	o.emit(Event{Service: service, Name: cname, Status: "Starting"})
	if err := o.Engine.Start(ctx, id); err != nil {
		if errors.Is(err, ErrPortInUse) {
			// Held since devenv looked (or where it could not look): the
			// reassign probes again, and skips the port now held.
			return fmt.Errorf("service %s: start %s: %w; `devenv ports assign --reassign %s` moves it to a free port", service, cname, err, service)
		}
		return fmt.Errorf("service %s: start %s: %w", service, cname, err)
	}
	o.emit(Event{Service: service, Name: cname, Status: "Started"})
	return nil
}

// recreate replaces a container while keeping its anonymous volumes: the
// old one is stopped and renamed aside, the new one created with the old
// anonymous volumes, and only then is the old one removed. If creating
// fails, the old container gets its name back.
func (o *Orchestrator) recreate(ctx context.Context, ds *DesiredService, step Step) (string, error) {
	name, old := ds.Name, step.Existing
	o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Recreating", Detail: step.Reason})
	killed, err := o.Engine.Stop(ctx, old.ID, ds.Spec.StopSignal, ds.StopTimeout)
	if err != nil {
		return "", fmt.Errorf("service %s: stop %s: %w", name, old.Name, err)
	}
	if killed {
		o.warn(name, fmt.Sprintf("container %s did not stop within %s and was killed", old.Name, ds.StopTimeout))
	}
	details, err := o.Engine.Inspect(ctx, old.ID)
	if err != nil {
		return "", fmt.Errorf("service %s: inspect %s: %w", name, old.Name, err)
	}
	aside := shortID(old.ID) + "_" + old.Name
	if err := o.Engine.Rename(ctx, old.ID, aside); err != nil {
		return "", fmt.Errorf("service %s: rename %s: %w", name, old.Name, err)
	}
	spec := ds.Spec
	spec.Mounts = carryAnonymous(spec.Mounts, details.Mounts)
	// From the rename on, the swap runs to its end even when interrupted,
	// so the old container is either back under its name or gone and the
	// new one holds the name: never both, never neither.
	bg := context.WithoutCancel(ctx)
	id, err := o.create(bg, ds, spec)
	if err != nil {
		_ = o.Engine.Rename(bg, old.ID, old.Name)
		return "", err
	}
	// The new container exists: the old one goes even if the run is being
	// interrupted, so no renamed leftover stays behind.
	if err := o.Engine.Remove(context.WithoutCancel(ctx), old.ID, false); err != nil {
		return "", fmt.Errorf("service %s: remove old container %s: %w", name, aside, err)
	}
	o.emit(Event{Service: name, Name: spec.Name, Status: "Recreated"})
	if step.NoStart {
		return id, nil
	}
	return o.start(ctx, ds, spec.Name, id, false)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// carryAnonymous gives the new container the old one's anonymous volumes
// (those not named in the spec) at the same paths.
func carryAnonymous(spec []Mount, old []Mount) []Mount {
	out := make([]Mount, 0, len(spec)+len(old))
	covered := map[string]bool{}
	for _, m := range spec {
		covered[m.Target] = true
	}
	oldAt := map[string]Mount{}
	for _, m := range old {
		if m.Type == "volume" && isAnonymous(m.Source) {
			oldAt[m.Target] = m
		}
	}
	for _, m := range spec {
		if m.Type == "volume" && m.Source == "" {
			if om, ok := oldAt[m.Target]; ok {
				m.Source = om.Source
			}
		}
		out = append(out, m)
	}
	for _, m := range old {
		if m.Type == "volume" && isAnonymous(m.Source) && !covered[m.Target] {
			out = append(out, Mount{Type: "volume", Source: m.Source, Target: m.Target})
		}
	}
	return out
}

func isAnonymous(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, r := range name {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
