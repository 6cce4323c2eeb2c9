package orchestrator

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/sockets"
	"github.com/devenv-dev/devenv/registry"
)

// Orchestrator runs devenv's commands against one engine and registry.
type Orchestrator struct {
	Engine   Engine
	Registry *registry.Store
	// EngineKey keys registry reservations: "" for a local engine, the
	// engine's ID for a remote one; EngineEndpoint is where a remote one
	// is reached (kept for display, and to take over entries an older
	// devenv keyed by endpoint).
	EngineKey      string
	EngineEndpoint string
	// Remote is set for a remote engine: its published ports are
	// forwarded to this machine, by ForwardCommand (devenv itself) run as
	// a supervised process.
	Remote         Remote
	ForwardCommand []string
	// Sockets lists this machine's listening sockets (a remote engine's
	// ports are forwarded here, so they are probed here too).
	Sockets  func(ctx context.Context, ports map[int]bool) ([]sockets.Socket, error)
	Reporter Reporter
	// Version is devenv's version, written into a label.
	Version string
	// DirExists is replaceable in tests.
	DirExists func(string) bool
	// Hosts runs host services; nil where they cannot run.
	Hosts HostRunner
	// CACert is devenv's CA certificate, given to host services with a
	// name as NODE_EXTRA_CA_CERTS ("" where there is none yet).
	CACert string
	// Parallel bounds how many steps of a plan run at once (compose's
	// --parallel); below 1, any number.
	Parallel int
}

// lockProject takes the project's change lock (registry.Store.LockProject)
// for a verb that creates, starts, stops or removes: two devenv processes
// changing one project take turns instead of undoing each other's work.
// The context it returns carries the lock, for the verbs the caller runs.
func (o *Orchestrator) lockProject(ctx context.Context, project string) (context.Context, func(), error) {
	if o.Registry == nil {
		return ctx, func() {}, nil
	}
	return o.Registry.LockProject(ctx, project, func(pid int) {
		who := "another devenv"
		switch {
		case pid == os.Getpid():
			who = "another command of this devenv"
		case pid > 0:
			who = fmt.Sprintf("another devenv (pid %d)", pid)
		}
		o.emit(Event{Name: project, Status: "Waiting", Detail: who + " is changing this project"})
	})
}

func (o *Orchestrator) emit(e Event) {
	if o.Reporter == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	o.Reporter.Event(e)
}

func (o *Orchestrator) warn(service, detail string) {
	o.emit(Event{Service: service, Status: "Warning", Detail: detail, Level: Warn})
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
