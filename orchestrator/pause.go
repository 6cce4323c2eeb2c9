package orchestrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/devenv-dev/devenv/compose"
)

// Pause freezes, and Unpause thaws, the selected services' containers.
func (o *Orchestrator) Pause(ctx context.Context, p *compose.Project, services []string, pause bool) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
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
