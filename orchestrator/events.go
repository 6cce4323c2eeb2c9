package orchestrator

import "time"

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
