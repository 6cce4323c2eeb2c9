package orchestrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// replanError is a call that found the engine other than the plan
// expected: the service is planned again from what the engine has now.
type replanError struct {
	why  string
	seen *Container // what the call saw of the container, when it looked
	err  error
}

func (e *replanError) Error() string { return e.err.Error() }
func (e *replanError) Unwrap() error { return e.err }

// converge makes the step's calls. A call that finds the engine other than
// planned (a container an interrupted devenv created under the name, one
// started without its ports) has the service planned again, from a fresh
// look at the engine, and those calls made, once.
func (o *Orchestrator) converge(ctx context.Context, ds *DesiredService, step Step) (string, error) {
	id, err := o.makeCalls(ctx, ds, step)
	var again *replanError
	if !errors.As(err, &again) || ctx.Err() != nil {
		return id, err
	}
	obs, oerr := Observe(ctx, o.Engine, ds.Spec.Labels[LabelProject], false)
	if oerr != nil {
		return "", errors.Join(err, oerr)
	}
	if _, found := obs.ServiceContainer(ds.Name); !found && again.seen == nil {
		return id, err // nothing of this service's holds the name: a plain failure
	}
	if c := again.seen; c != nil {
		for i := range obs.Containers {
			if obs.Containers[i].ID == c.ID {
				obs.Containers[i] = *c
			}
		}
	}
	steps, perr := plan.PlanService(ds, obs, false, false)
	if perr != nil {
		return "", perr
	}
	for _, s := range steps {
		if plan.IsContainerStep(s.Action) {
			s = plan.NoStartStep(s, step.NoStart)
			s.Reason = again.why + "; " + s.Reason
			s.Calls = plan.ContainerCalls(ds, s)
			o.emit(Event{Service: ds.Name, Name: s.Name, Status: "Replanned", Detail: s.String()})
			return o.makeCalls(ctx, ds, s)
		}
	}
	return "", err
}

// makeCalls makes one container step's calls in order, with the events
// the step's action shows. It returns the container's ID.
func (o *Orchestrator) makeCalls(ctx context.Context, ds *DesiredService, step Step) (string, error) {
	name := ds.Name
	id, oldID := "", ""
	if step.Existing != nil {
		id, oldID = step.Existing.ID, step.Existing.ID
	}
	switch step.Action {
	case ActKeep:
		o.emit(Event{Service: name, Name: step.Name, Status: "Running"})
	case ActRecreate:
		o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Recreating", Detail: step.Reason})
	case ActRestart:
		o.emit(Event{Service: name, Name: step.Name, Status: "Restarting", Detail: step.Reason})
	}
	// From the rename on, the swap runs to its end even when interrupted,
	// so the old container is either back under its name or gone and the
	// new one holds the name: never both, never neither.
	swap := ctx
	for _, c := range step.Calls {
		var err error
		switch c.Op {
		case CallStop:
			err = o.stopForUp(ctx, ds, c.Name, oldID)
		case CallRename:
			if err = o.Engine.Rename(ctx, oldID, c.To); err != nil {
				err = fmt.Errorf("service %s: rename %s: %w", name, c.Name, err)
			} else {
				swap = context.WithoutCancel(ctx)
			}
		case CallCreate:
			id, err = o.createForUp(swap, ds, step)
			if err != nil && step.Action == ActRecreate {
				_ = o.Engine.Rename(swap, oldID, step.Existing.Name)
			}
		case CallRemove:
			if err = o.Engine.Remove(swap, oldID, false); err != nil {
				err = fmt.Errorf("service %s: remove old container %s: %w", name, c.Name, err)
			} else {
				o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Recreated"})
			}
		case CallStart:
			err = o.startContainer(ctx, name, c.Name, id)
		case CallCheckPorts:
			err = o.checkPorts(ctx, ds, id)
		}
		if err != nil {
			return id, err
		}
	}
	return id, nil
}

// stopForUp stops a container up recreates or restarts.
func (o *Orchestrator) stopForUp(ctx context.Context, ds *DesiredService, cname, id string) error {
	killed, err := o.Engine.Stop(ctx, id, ds.Spec.StopSignal, ds.StopTimeout)
	if err != nil {
		return fmt.Errorf("service %s: stop %s: %w", ds.Name, cname, err)
	}
	if killed {
		o.warn(ds.Name, fmt.Sprintf("container %s did not stop within %s and was killed", cname, ds.StopTimeout))
	}
	return nil
}

// createForUp creates the step's container; a recreate's carries the old
// container's anonymous volumes. A create that fails while the run goes on
// has the service planned again: an interrupted devenv's create may have
// finished under the name after its client gave up.
func (o *Orchestrator) createForUp(ctx context.Context, ds *DesiredService, step Step) (string, error) {
	spec := ds.Spec
	if step.Action == ActRecreate {
		spec.Mounts = plan.CarryAnonymous(spec.Mounts, step.Existing.Mounts)
	} else {
		o.emit(Event{Service: ds.Name, Name: spec.Name, Status: "Creating"})
	}
	id, err := o.Engine.Create(ctx, spec)
	if err != nil {
		if id != "" {
			_ = o.Engine.Remove(context.WithoutCancel(ctx), id, false)
		}
		err = fmt.Errorf("service %s: create container %s: %w", ds.Name, spec.Name, err)
		if id == "" && ctx.Err() == nil && step.Action == ActCreate {
			return "", &replanError{why: "the create failed", err: err}
		}
		return "", err
	}
	if step.Action != ActRecreate {
		o.emit(Event{Service: ds.Name, Name: spec.Name, Status: "Created"})
	}
	return id, nil
}

// checkPorts asks the engine whether the started container publishes its
// ports; when it does not, the service is planned again from what the
// engine said.
func (o *Orchestrator) checkPorts(ctx context.Context, ds *DesiredService, id string) error {
	d, err := o.Engine.Inspect(ctx, id)
	if err != nil || !d.Running || plan.SameBindings(ds.Spec.Ports, d.Published) {
		return nil
	}
	seen := d.Container
	seen.Ports = d.Published
	return &replanError{why: "the engine started it without its published ports", seen: &seen,
		err: fmt.Errorf("service %s: %s started without its published ports", ds.Name, d.Name)}
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
