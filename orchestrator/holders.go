package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// relayFor is the project whose relay probes a remote engine's host;
// create makes the relay when it is missing.
type relayFor struct {
	project, dir string
	create       bool
}

// boundBy maps each "port/proto" that a container the engine is starting
// (created or restarting, not yet listed running) was created to publish to
// that container; one inspect each, called only when a listener is
// unaccounted for. An exited container holds nothing, unless it is the
// project's and runs by now: another devenv (a second up at once) started
// it since the list.
func (o *Orchestrator) boundBy(ctx context.Context, cs []Container, project string) map[string]Container {
	out := map[string]Container{}
	for _, c := range cs {
		exited := c.State == "exited" && project != "" && c.Labels[LabelProject] == project
		if c.State != "created" && c.State != "restarting" && !exited {
			continue
		}
		d, err := o.Engine.Inspect(ctx, c.ID)
		if err != nil || c.State == "exited" && !d.Running && !d.Restarting {
			continue
		}
		for _, pb := range d.Bindings {
			lo, hi, err := compose.ParsePublished(pb.HostPort)
			for port := lo; err == nil && lo > 0 && port <= max(lo, hi); port++ {
				out[fmt.Sprintf("%d/%s", port, pb.Protocol)] = c
			}
		}
	}
	return out
}

// resolveProcess finds the pid and command of a process holding port.
func (o *Orchestrator) resolveProcess(ctx context.Context, port int, proto string, h registry.Holder) registry.Holder {
	if o.Sockets == nil {
		return h
	}
	socks, err := o.Sockets(ctx, map[int]bool{port: true})
	if err != nil {
		return h
	}
	for _, s := range socks {
		if s.Port == port && s.Protocol == proto && s.PID != 0 {
			return registry.Holder{Kind: "process", PID: s.PID, Command: s.Command}
		}
	}
	return h
}

// holders lists every holder of every port: one container list (all
// states; only running containers hold ports) and one socket scan;
// processes are named for the ports in resolve. For a remote engine the
// containers are on the engine's host, and so are the sockets the relay
// lists; the socket scan is this machine's, where the forwards listen.
func (o *Orchestrator) holders(ctx context.Context, resolve map[int]bool, rf relayFor) (map[string][]registry.Holder, []Container, error) {
	table, cs, err := o.holdersMaybe(ctx, resolve, rf, false)
	return table, cs, err
}

// EngineNotAskedError comes with an answer given without the engine, which
// could not be reached: what the registry and this machine's sockets say;
// containers (and a remote engine's host) were not looked at. It unwraps
// to the engine's error (exit 4 where the question needs the engine).
type EngineNotAskedError struct{ Err error }

func (e *EngineNotAskedError) Error() string {
	return "containers were not checked, only the registry and this machine's sockets: " + e.Err.Error()
}

func (e *EngineNotAskedError) Unwrap() error { return e.Err }

// holdersMaybe is holders; withoutEngine answers from this machine's
// sockets alone when the engine cannot be reached, with an
// EngineNotAskedError beside the table.
func (o *Orchestrator) holdersMaybe(ctx context.Context, resolve map[int]bool, rf relayFor, withoutEngine bool) (map[string][]registry.Holder, []Container, error) {
	table := map[string][]registry.Holder{}
	var notAsked error
	cs, err := o.Engine.Containers(ctx, ListFilter{All: true})
	switch {
	case err != nil && withoutEngine && errors.Is(err, ErrEngineUnreachable):
		notAsked = &EngineNotAskedError{Err: err}
	case err != nil:
		return nil, nil, err
	}
	r := o.reach()
	published := map[string]bool{}
	for _, c := range cs {
		if c.State != "running" && c.State != "paused" {
			continue
		}
		seen := map[string]bool{}
		for _, pb := range c.Ports {
			if pb.HostPort == "" {
				continue
			}
			key := pb.HostPort + "/" + pb.Protocol
			if seen[key] {
				continue
			}
			seen[key] = true
			published[key] = true
			h := registry.Holder{Kind: "container", Container: c.Name, Project: c.Labels[LabelProject], Service: c.Labels[LabelService]}
			if !r.onThisMachine() {
				h.Engine, h.EngineID = r.label(), o.EngineKey
			}
			table[key] = append(table[key], h)
		}
	}
	if notAsked == nil {
		remote, err := r.holders(ctx, rf, published)
		if err != nil {
			return nil, nil, fmt.Errorf("list the ports held on the host of engine %s: %w", r.label(), err)
		}
		for key, hs := range remote {
			table[key] = append(table[key], hs...)
		}
	}
	if o.Sockets == nil {
		return table, cs, notAsked
	}
	socks, err := o.Sockets(ctx, resolve)
	if err != nil {
		return table, cs, notAsked
	}
	seen := map[string]bool{}
	for _, s := range socks {
		key := fmt.Sprintf("%d/%s", s.Port, s.Protocol)
		if published[key] && r.onThisMachine() {
			// The container holds it, through the engine's proxy (or the
			// engine binds it itself).
			continue
		}
		id := key + "/" + fmt.Sprint(s.PID)
		if seen[id] {
			continue
		}
		seen[id] = true
		table[key] = append(table[key], registry.Holder{Kind: "process", PID: s.PID, Command: s.Command})
	}
	return table, cs, notAsked
}

// OccupiedAll is the holder lookup for `ports`, `ports check` and `why`:
// processes named for the ports in resolve. This machine's sockets hold
// ports for projects on every engine (a remote engine's are forwarded
// here); the engine's containers and, through any of its relays, its
// host's sockets hold ports for the projects on the engine devenv talks
// to now. Other engines' hosts are not probed from here. A process that is
// a project's forward or host service is named as that project's.
//
// Without an engine, the answer is this machine's sockets alone, with an
// EngineNotAskedError.
func (o *Orchestrator) OccupiedAll(ctx context.Context, resolve map[int]bool, reg *registry.Registry) (func(engine string) registry.Occupied, map[string][]registry.Holder, error) {
	table, _, notAsked := o.holdersMaybe(ctx, resolve, relayFor{}, true)
	var na *EngineNotAskedError
	if notAsked != nil && !errors.As(notAsked, &na) {
		return nil, nil, notAsked
	}
	if o.Hosts != nil && reg != nil {
		for key, hs := range table {
			for i, h := range hs {
				if h.Kind != "process" || h.PID == 0 || h.Engine != "" {
					continue
				}
				for _, rp := range reg.Projects {
					if _, ok := o.Hosts.Owns(rp.Name, h.PID); ok {
						table[key][i].Project = rp.Name
						break
					}
				}
			}
		}
	}
	return func(engine string) registry.Occupied {
		return func(port int, proto string) []registry.Holder {
			var out []registry.Holder
			for _, h := range table[fmt.Sprintf("%d/%s", port, proto)] {
				if o.judges(engine, h) {
					out = append(out, h)
				}
			}
			return out
		}
	}, table, notAsked
}

// registryPorts is the set of ports the registry reserves, on every
// engine: a remote engine's are forwarded to this machine.
func (o *Orchestrator) registryPorts(reg *registry.Registry) map[int]bool {
	out := map[int]bool{}
	for _, p := range reg.Projects {
		for _, r := range p.Reservations {
			out[r.Port] = true
		}
	}
	return out
}

// judges says whether holder h, seen from the engine in use, bears on a
// claim of a project on engine: every holder, on the engine in use; on
// another remote engine, what is on this machine (its ports are forwarded
// here); on the local engine while a remote one is in use, only this
// machine's processes devenv can name and that are no engine's proxy: the
// local engine is not asked, and its proxy (or a process devenv cannot
// see, as a root-owned docker-proxy is to a user) may be its container's.
func (o *Orchestrator) judges(engine string, h registry.Holder) bool {
	here := h.Engine == ""
	switch {
	case engine == o.EngineKey:
		return true
	case engine == "":
		return here && h.Kind == "process" && h.PID > 0 && h.Command != "" && !isEngineProxy(h.Command)
	}
	return here
}

// isEngineProxy recognises, by its program's name, the process through
// which a container engine publishes ports on this machine (Docker,
// Docker Desktop, rootless Docker, Podman, Lima and Colima, OrbStack).
func isEngineProxy(command string) bool {
	prog := command
	if i := strings.IndexByte(prog, ' '); i >= 0 {
		prog = prog[:i]
	}
	prog = filepath.Base(prog)
	for _, p := range []string{"docker-proxy", "com.docker.", "vpnkit", "rootlesskit", "gvproxy", "limactl", "ssh", "OrbStack"} {
		if strings.HasPrefix(prog, p) {
			return true
		}
	}
	return false
}
