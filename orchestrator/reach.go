package orchestrator

import (
	"context"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// reach is how the ports an engine's containers publish reach this
// machine's 127.0.0.1: directly, when the engine runs on this machine
// (local), or through devenv's port forward and the relay on the engine's
// host (forwarded). The core asks it what to do; it never asks which
// engine it has.
type reach interface {
	// onThisMachine says whether the engine runs here: its listeners are
	// this machine's sockets, its containers' directories this machine's.
	onThisMachine() bool
	// label names the engine for holders, rows and messages; "" when it
	// is this machine's own.
	label() string
	// holders are the sockets listening on the engine's host that no
	// container publishes (none for a local engine: the probe of this
	// machine sees them).
	holders(ctx context.Context, rf relayFor, published map[string]bool) (map[string][]registry.Holder, error)
	// listeningNow is the engine host's listening ports as they are now;
	// nil when it cannot tell.
	listeningNow(ctx context.Context, rf relayFor) map[string]bool
	// ensure makes the project's published ports listen here.
	ensure(ctx context.Context, p *compose.Project, ports *PortResult) error
	// restore does what ensure does, with the ports the registry holds.
	restore(ctx context.Context, p *compose.Project) error
	// stop ends whatever serves the project's ports here.
	stop(ctx context.Context, project string) error
	// removeRelay removes what the project left on the engine's host.
	removeRelay(ctx context.Context, p *compose.Project) error
	// forwarding says whether the project's forward runs.
	forwarding(project string) bool
	// findings is doctor's report on how the ports reach this machine.
	findings(ctx context.Context, p *compose.Project) []Finding
}

// reach is the engine's reach: forwarded when the Orchestrator was given
// a Remote, local otherwise.
func (o *Orchestrator) reach() reach {
	if o.Remote == nil {
		return local{}
	}
	return forwarded{o}
}

// local is an engine on this machine: its ports listen here already.
type local struct{}

func (local) onThisMachine() bool { return true }
func (local) label() string       { return "" }
func (local) holders(context.Context, relayFor, map[string]bool) (map[string][]registry.Holder, error) {
	return nil, nil
}
func (local) listeningNow(context.Context, relayFor) map[string]bool      { return nil }
func (local) ensure(context.Context, *compose.Project, *PortResult) error { return nil }
func (local) restore(context.Context, *compose.Project) error             { return nil }
func (local) stop(context.Context, string) error                          { return nil }
func (local) removeRelay(context.Context, *compose.Project) error         { return nil }
func (local) forwarding(string) bool                                      { return false }
func (local) findings(context.Context, *compose.Project) []Finding        { return nil }

// forwarded is a remote engine: its ports are served here by the
// project's port forward, relayed through a container on its host.
type forwarded struct{ o *Orchestrator }

func (f forwarded) onThisMachine() bool { return false }
func (f forwarded) label() string       { return f.o.Remote.Label() }

// Forwarding says whether the project's forward runs (ps, doctor).
func (o *Orchestrator) Forwarding(project string) bool { return o.reach().forwarding(project) }
