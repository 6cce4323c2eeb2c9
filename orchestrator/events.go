package orchestrator

import (
	"context"
	"slices"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// Event is one step of progress, for one service or resource.
type Event struct {
	Service string    // service name, or "" for project-wide events
	Name    string    // container, network or volume name
	Status  string    // Creating, Created, Starting, Started, Waiting, Healthy, ...
	Detail  string    // extra text, e.g. a reason or an error
	Level   Level     // Info, Warn or Error
	Time    time.Time // when it happened
}

// Level is an event's severity.
type Level int

const (
	Info Level = iota
	Warn
	Error
)

// Reporter receives events; it must be safe for concurrent use.
type Reporter interface {
	Event(Event)
}

// Discard drops every event.
type Discard struct{}

// Event implements Reporter.
func (Discard) Event(Event) {}

// ProjectEvent is an engine event of one of the project's containers.
type ProjectEvent struct {
	EngineEvent
	Service string
}

// EventsOptions are the flags of `events`.
type EventsOptions struct {
	Services     []string
	Since, Until string
}

// Events streams the project's container events to fn until ctx ends (or
// until Until is reached).
func (o *Orchestrator) Events(ctx context.Context, p *compose.Project, opts EventsOptions, fn func(ProjectEvent) error) error {
	evs, errs := o.Engine.Events(ctx, []string{LabelProject + "=" + p.Name()}, opts.Since, opts.Until)
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				select {
				case err := <-errs:
					return err
				default:
					return nil
				}
			}
			svc := ev.Attributes[LabelService]
			if len(opts.Services) > 0 && !slices.Contains(opts.Services, svc) {
				continue
			}
			if err := fn(ProjectEvent{EngineEvent: ev, Service: svc}); err != nil {
				return err
			}
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err() // interrupted: exit 130
		}
	}
}
