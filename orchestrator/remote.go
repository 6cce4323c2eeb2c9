package orchestrator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/devenv-dev/devenv/orchestrator/sockets"
	"github.com/devenv-dev/devenv/registry"
)

// Remote is a remote engine's host, reached through the project's relay:
// a small container of devenv itself on the engine's host network.
type Remote interface {
	// Relay returns the project's running relay, creating (and building
	// its image) when create is set; "" when there is none and create is
	// not set.
	Relay(ctx context.Context, project, dir string, create bool) (string, error)
	// RemoveRelay removes the project's relay; dir "" is any directory's.
	RemoveRelay(ctx context.Context, project, dir string) error
	// Listening lists the sockets listening on the engine's host: as the
	// relay logged them last (at most forward.ListingEvery old), or, with
	// fresh, as they are now (a process started in the relay).
	Listening(ctx context.Context, relay string, fresh bool) ([]sockets.Socket, error)
	// RelayBeacon is the relay's probe port (none until it has logged one).
	RelayBeacon(ctx context.Context, relay string) forward.Beacon
	// Forward is how a forward process reaches the engine.
	Forward() forward.Engine
	// Label is the engine as the user named it (its endpoint).
	Label() string
}

// forwardWait bounds how long up waits for a forward to listen.
const forwardWait = 15 * time.Second

// holders lists the engine host's listening sockets as holders, for
// the ports no container of the engine publishes (those the container
// list names). With create, the relay is made if missing; without, a
// project with no relay yet is not probed (up --dry-run changes nothing).
// With no project, any of the engine's relays will do (ports check).
func (f forwarded) holders(ctx context.Context, rf relayFor, published map[string]bool) (map[string][]registry.Holder, error) {
	o := f.o
	relay, err := o.Remote.Relay(ctx, rf.project, rf.dir, rf.create)
	if err != nil || relay == "" {
		return nil, err
	}
	socks, err := o.Remote.Listening(ctx, relay, false)
	if err != nil {
		return nil, err
	}
	out := map[string][]registry.Holder{}
	for _, s := range socks {
		key := fmt.Sprintf("%d/%s", s.Port, s.Protocol)
		if published[key] || len(out[key]) > 0 {
			continue
		}
		out[key] = []registry.Holder{{Kind: "process", Engine: o.Remote.Label(), EngineID: o.EngineKey}}
	}
	return out, nil
}

// forwardPorts are the project's published TCP ports as forwards: the
// same number here as on the engine's host. A port the engine picks (no
// host port) has no number to forward to; UDP is not carried.
func (o *Orchestrator) forwardPorts(ports *PortResult) []forward.Port {
	var out []forward.Port
	for _, svc := range slices.Sorted(func(yield func(string) bool) {
		for s := range ports.Bindings {
			if !yield(s) {
				return
			}
		}
	}) {
		for _, b := range ports.Bindings[svc] {
			if b.Port == 0 {
				continue
			}
			if b.Protocol != "" && b.Protocol != "tcp" {
				o.warn(svc, fmt.Sprintf("%s port %d is not forwarded from the remote engine (forwards carry TCP only)", b.Protocol, b.Port))
				continue
			}
			ip := b.HostIP
			if ip == "" || ip == "0.0.0.0" || ip == "::" {
				ip = "127.0.0.1"
			}
			for port := b.Port; port <= max(b.Port, b.PortEnd); port++ {
				out = append(out, forward.Port{Service: svc, Local: port, Remote: port, RemoteIP: ip})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Local < out[j].Local })
	return out
}

// ensure makes the project's forward serve exactly its published
// ports: started when missing, restarted when the ports or the relay
// changed, kept otherwise; it returns once every port listens here.
func (f forwarded) ensure(ctx context.Context, p *compose.Project, ports *PortResult) error {
	o := f.o
	fps := o.forwardPorts(ports)
	if len(fps) == 0 {
		return f.stop(ctx, p.Name())
	}
	if o.Hosts == nil || len(o.ForwardCommand) == 0 {
		return fmt.Errorf("the ports of a remote engine cannot be forwarded here: %w", ErrHostUnsupported)
	}
	relay, err := o.Remote.Relay(ctx, p.Name(), p.Dir(), true)
	if err != nil {
		return err
	}
	spec := forward.Spec{Project: p.Name(), Relay: relay, Beacon: o.Remote.RelayBeacon(ctx, relay), Engine: o.Remote.Forward(), Ports: fps}
	enc := spec.Encode()
	sum := sha256.Sum256([]byte(enc))
	var logFrom int64 // the log is appended to: this start's lines follow
	if fi, err := os.Stat(o.Hosts.LogPath(p.Name(), o.forwardName())); err == nil {
		logFrom = fi.Size()
	}
	_, kept, err := o.Hosts.Start(ctx, HostSpec{
		Project: p.Name(), ProjectDir: p.Dir(), Name: o.forwardName(), Args: o.ForwardCommand, Dir: p.Dir(),
		Env: []string{forward.Env + "=" + enc}, Restart: "on-failure", Grace: 5 * time.Second,
		Hash: hex.EncodeToString(sum[:8]),
	})
	if err != nil {
		return fmt.Errorf("start the port forward: %w", err)
	}
	if err := o.waitForwards(ctx, p.Name(), fps, logFrom); err != nil {
		return err
	}
	if !kept {
		var parts []string
		for _, fp := range fps {
			parts = append(parts, fmt.Sprintf("%s %d", fp.Service, fp.Local))
		}
		o.emit(Event{Name: forward.Name, Status: "Forwarded", Detail: "127.0.0.1 ← " + o.Remote.Label() + ": " + strings.Join(parts, ", ")})
	}
	return nil
}

// restore starts the forward again after start or restart, with
// the ports the registry holds.
func (f forwarded) restore(ctx context.Context, p *compose.Project) error {
	ports, err := f.o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return err
	}
	return f.ensure(ctx, p, ports)
}

// waitForwards waits until every forwarded port listens on this machine,
// or the forward has failed (a port taken here since it was reserved: exit
// 3, naming the port the forward's log, from logFrom on, names).
func (o *Orchestrator) waitForwards(ctx context.Context, project string, fps []forward.Port, logFrom int64) error {
	if o.Sockets == nil {
		return nil
	}
	deadline := time.Now().Add(forwardWait)
	for {
		listening, err := o.tcpHere(ctx)
		if err != nil && time.Now().After(deadline) {
			return fmt.Errorf("the port forward: cannot list this machine's listening ports: %w", err)
		}
		missing := slices.IndexFunc(fps, func(fp forward.Port) bool { return !listening[fp.Local] })
		if missing < 0 {
			return nil
		}
		if st, ok := o.Hosts.Status(project, o.forwardName()); ok && !st.Running || time.Now().After(deadline) {
			why := logSince(o.Hosts.LogPath(project, o.forwardName()), logFrom, 5)
			if st.Error != "" {
				why = st.Error
			}
			if svc, port, ok := forward.HeldPort(why); ok {
				// Taken here since devenv looked: exit 3, and the
				// reassign probes again.
				return fmt.Errorf("the port forward of service %s: 127.0.0.1:%d: %w; `devenv ports assign --reassign %s` moves it to a free port", svc, port, ErrPortInUse, svc)
			}
			fp := fps[missing]
			return fmt.Errorf("the port forward of service %s did not listen on 127.0.0.1:%d: %s", fp.Service, fp.Local, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Millisecond):
		}
	}
}

// logSince is the last n lines of the file from offset on.
func logSince(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, offset, 1<<20))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// removeRelay removes the project's relay (down). Without a compose file
// (-p NAME) the relay of any directory is the project's, as its
// containers are.
func (f forwarded) removeRelay(ctx context.Context, p *compose.Project) error {
	dir := p.Dir()
	if len(p.Files) == 0 {
		dir = ""
	}
	if err := f.o.Remote.RemoveRelay(ctx, p.Name(), dir); err != nil {
		return fmt.Errorf("remove the relay: %w", err)
	}
	return nil
}

// forwardName is the supervised name of the project's forward from this
// engine.
func (o *Orchestrator) forwardName() string { return forward.NameFor(o.EngineKey) }

// stop ends the project's forward from this engine, if it runs; a
// local engine has none (and a same-named project's forward from a remote
// engine is not its to end).
func (f forwarded) stop(ctx context.Context, project string) error {
	o := f.o
	if o.Hosts == nil {
		return nil
	}
	if _, ok := o.Hosts.Status(project, o.forwardName()); !ok {
		if slices.Contains(o.Hosts.Names(project), o.forwardName()) {
			_, _ = o.Hosts.Stop(ctx, project, o.forwardName(), 0, "") // clears stale state
		}
		return nil
	}
	if _, err := o.Hosts.Stop(ctx, project, o.forwardName(), 5*time.Second, ""); err != nil {
		return fmt.Errorf("stop the port forward: %w", err)
	}
	o.emit(Event{Name: forward.Name, Status: "Stopped", Detail: "ports no longer forwarded from " + o.Remote.Label()})
	return nil
}

func (f forwarded) forwarding(project string) bool {
	o := f.o
	if o.Hosts == nil {
		return false
	}
	st, ok := o.Hosts.Status(project, o.forwardName())
	return ok && st.Running
}

// findings is doctor's report on a remote engine: that it is remote,
// how its ports reach this machine, and, in a project, whether they do
// now: a running container whose port is not served here is an error.
func (f forwarded) findings(ctx context.Context, p *compose.Project) []Finding {
	o := f.o
	id := o.EngineKey
	if id == "" {
		id = "unknown"
	}
	out := []Finding{{"ok", "remote", fmt.Sprintf("engine %s is remote (ID %s): the ports its containers publish are served on this machine's 127.0.0.1 by devenv's port forward, relayed through a container on the engine's host over the engine's own connection", o.Remote.Label(), id), ""}}
	if p == nil {
		return out
	}
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject + "=" + p.Name()}})
	if err != nil {
		return out
	}
	running := map[string]bool{}
	for _, c := range cs {
		if c.State == "running" {
			running[c.Labels[LabelService]] = true
		}
	}
	if len(running) == 0 {
		return out
	}
	ports, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return append(out, Finding{"error", "remote", err.Error(), ""})
	}
	here, err := o.tcpHere(ctx)
	if err != nil {
		here = nil // cannot tell: the forward's state alone says
	}
	forwarding := f.forwarding(p.Name())
	var served, missing []string
	for _, fp := range o.forwardPorts(ports) {
		if !running[fp.Service] {
			continue
		}
		desc := fmt.Sprintf("%s 127.0.0.1:%d", fp.Service, fp.Local)
		if forwarding && (here == nil || here[fp.Local]) {
			served = append(served, desc)
		} else {
			missing = append(missing, desc)
		}
	}
	if len(served) > 0 {
		out = append(out, Finding{"ok", "remote", "forwarded here: " + strings.Join(served, ", "), ""})
	}
	if len(missing) > 0 {
		why := "the port forward is not running"
		if forwarding {
			why = "the port forward runs but does not listen there"
		}
		fix := "run `devenv up` (or `devenv start`) to start the forward"
		if o.Hosts != nil {
			fix += "; its log is " + o.Hosts.LogPath(p.Name(), o.forwardName())
		}
		out = append(out, Finding{"error", "remote", fmt.Sprintf("running on %s but not reachable here (%s): %s", o.Remote.Label(), why, strings.Join(missing, ", ")), fix})
	}
	return out
}

// listeningNow is the engine host's listening ports as they are now, to
// confirm a holder seen in the relay's last listing, which may be a
// moment old (a container stopped just before). nil when it cannot tell.
func (f forwarded) listeningNow(ctx context.Context, rf relayFor) map[string]bool {
	o := f.o
	relay, err := o.Remote.Relay(ctx, rf.project, rf.dir, false)
	if err != nil || relay == "" {
		return nil
	}
	socks, err := o.Remote.Listening(ctx, relay, true)
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, s := range socks {
		out[fmt.Sprintf("%d/%s", s.Port, s.Protocol)] = true
	}
	return out
}

// tcpHere is the set of TCP ports listening on this machine.
func (o *Orchestrator) tcpHere(ctx context.Context) (map[int]bool, error) {
	if o.Sockets == nil {
		return nil, errors.New("this machine's ports cannot be listed")
	}
	socks, err := o.Sockets(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for _, s := range socks {
		if s.Protocol == "tcp" {
			out[s.Port] = true
		}
	}
	return out, nil
}
