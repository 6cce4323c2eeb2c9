package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/devenv-dev/devenv/registry"
)

// PortOptions shape port reconciliation.
type PortOptions struct {
	Strict     bool
	Reassign   bool
	Only       []string
	Adopt      bool
	PublishAll bool
	// DryRun computes bindings from the registry without locking or
	// writing (config, port, and up's first pass).
	DryRun bool
	// Probe makes a DryRun also look at who holds ports now, so it fails
	// exactly as the real reconcile would.
	Probe bool
	// RemoveOrphans: the ports of the project's orphan containers are free
	// (up --remove-orphans removes them); otherwise they are held.
	RemoveOrphans bool
	// RunHosts are the host services this up runs: a stranger on their
	// ports is a conflict. The others are watch-only here (the developer
	// may run them by hand).
	RunHosts []string
}

// PortResult is the outcome of reconciling a project's ports.
type PortResult struct {
	Bindings Bindings
	Remaps   []registry.Remap
	Project  *registry.Project
	Warnings []string
}

// databaseRoles are warned about when published on all interfaces.
var databaseRoles = []string{"postgres", "mysql", "mongo", "redis", "electric", "elasticsearch", "memcached", "rabbitmq", "minio"}

// IsDatabaseRole reports whether a role holds data worth protecting.
func IsDatabaseRole(role string) bool { return slices.Contains(databaseRoles, role) }

func toRegistryRequests(reqs []compose.PortRequest, runHosts []string) []registry.PortRequest {
	out := make([]registry.PortRequest, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, registry.PortRequest{Service: r.Service, Role: r.Role, Target: r.Target, HostIP: r.HostIP,
			Port: r.Port, PortEnd: r.PortEnd, Protocol: r.Protocol, Host: r.Host, Managed: r.Managed && slices.Contains(runHosts, r.Service), Index: r.Index})
	}
	return out
}

// ReconcilePorts makes the registry hold an assignment for every port the
// project publishes and returns the bindings to create containers with.
func (o *Orchestrator) ReconcilePorts(ctx context.Context, p *compose.Project, opts PortOptions) (*PortResult, error) {
	reqs, err := p.PortRequests()
	if err != nil {
		return nil, err
	}
	regReqs := toRegistryRequests(reqs, opts.RunHosts)
	req := registry.Request{
		Project: p.Name(), Dir: p.Dir(), Engine: o.EngineKey, Endpoint: o.EngineEndpoint, Stack: p.X.Stack, Ports: regReqs,
		Strict: opts.Strict, Reassign: opts.Reassign, Only: opts.Only, Adopt: opts.Adopt,
		Keep: sortedKeys(p.Model.DisabledServices),
	}
	dirExists := o.DirExists
	if dirExists == nil {
		dirExists = func(d string) bool { _, err := os.Stat(d); return err == nil }
	}
	var result registry.Result
	publishAll := false
	if opts.DryRun {
		reg, err := o.Registry.Load()
		if err != nil {
			var pe *registry.ParseError
			if opts.Probe || !errors.As(err, &pe) {
				return nil, err
			}
			reg = registry.New() // read-only commands still work
		}
		var occupied registry.Occupied
		if opts.Probe {
			if occupied, err = o.Occupied(ctx, p, ownServices(p, opts), o.ownProcess(p, opts), true); err != nil {
				return nil, err
			}
		}
		publishAll = reg.Publish == "all"
		result, err = registry.Reconcile(reg, req, occupied, dirExists)
		if err != nil {
			var de *registry.DirError
			if opts.Probe || !errors.As(err, &de) {
				return nil, err
			}
			result = registry.Result{Project: &registry.Project{Name: p.Name(), Dir: p.Dir()}}
		}
	} else {
		occupied, err := o.Occupied(ctx, p, ownServices(p, opts), o.ownProcess(p, opts), false)
		if err != nil {
			return nil, err
		}
		_, err = o.Registry.Update(ctx, func(reg *registry.Registry) (bool, error) {
			r, err := registry.Reconcile(reg, req, occupied, dirExists)
			result = r
			publishAll = reg.Publish == "all"
			return r.Changed, err
		})
		if err != nil {
			return nil, err
		}
	}
	res := &PortResult{Bindings: Bindings{}, Remaps: result.Remaps, Project: result.Project}
	assigned := map[registry.PortKey]int{}
	for _, r := range result.Project.Reservations {
		assigned[r.Key()] = r.Port
	}
	for i, r := range reqs {
		if r.Host {
			continue
		}
		b := Binding{Service: r.Service, Index: r.Index, Target: r.Target, Protocol: r.Protocol, HostIP: r.HostIP, Port: r.Port, PortEnd: r.PortEnd}
		if r.PortEnd == 0 && r.Port > 0 {
			if port, ok := assigned[regReqs[i].Key()]; ok {
				b.Port = port
			}
		}
		all := r.AllInterfaces || opts.PublishAll || publishAll
		if b.HostIP == "" && !all {
			b.HostIP = "127.0.0.1"
		}
		if (b.HostIP == "" || b.HostIP == "0.0.0.0" || b.HostIP == "::") && IsDatabaseRole(r.Role) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("service %s (%s) publishes port %d on all interfaces: anyone on your network can reach it", r.Service, r.Role, b.Port))
		}
		res.Bindings[r.Service] = append(res.Bindings[r.Service], b)
	}
	return res, nil
}

// ownProcess says whether pid belongs to one of the project's host
// services; asked only for a process that holds a port, at that moment.
// An orphan host service (no longer in the file) holds its ports, as an
// orphan container does, unless it is about to be stopped.
func (o *Orchestrator) ownProcess(p *compose.Project, opts PortOptions) func(pid int) bool {
	if o.Hosts == nil {
		return nil
	}
	return func(pid int) bool {
		name, ok := o.Hosts.Owns(p.Name(), pid)
		if !ok {
			return false
		}
		h, declared := p.X.Host[name]
		return (declared && h.Managed()) || forward.IsName(name) || opts.RemoveOrphans
	}
}

// ownServices says which of the project's containers hold ports for it:
// those of services the file declares (active or not), and orphans only
// when they are about to be removed.
func ownServices(p *compose.Project, opts PortOptions) func(string) bool {
	return func(service string) bool { return p.Declares(service) || opts.RemoveOrphans }
}

// Occupied returns who holds each port now, outside the registry: the
// engine's containers (any project, not only devenv's) and host processes;
// for a remote engine, this machine's processes (the forwards' side) and
// the engine host's sockets, seen through the project's relay (made here
// unless dryRun). The project's own containers (own(service)) are left
// out, in any state: a port the engine is still binding for one of them
// (its proxy already listening, the container not yet listed as running)
// is the project's. The ports of the project's orphans are held unless own
// says otherwise. The process behind a socket is looked up only for a port
// that turns out to be held.
func (o *Orchestrator) Occupied(ctx context.Context, p *compose.Project, own func(service string) bool, ownPID func(pid int) bool, dryRun bool) (registry.Occupied, error) {
	project := p.Name()
	rf := relayFor{p.Name(), p.Dir(), !dryRun}
	table, cs, err := o.holders(ctx, nil, rf)
	if err != nil {
		return nil, err
	}
	var now map[string]bool
	nowDone := false
	stillListening := func(key string) bool {
		if !nowDone {
			now, nowDone = o.listeningNow(ctx, rf), true
		}
		return now == nil || now[key]
	}
	var bound map[string]Container
	boundTo := func(key string) (Container, bool) {
		if bound == nil {
			bound = o.boundBy(ctx, cs, project)
		}
		c, ok := bound[key]
		return c, ok
	}
	return func(port int, proto string) []registry.Holder {
		var out []registry.Holder
		key := fmt.Sprintf("%d/%s", port, proto)
		for _, h := range table[key] {
			if h.Kind == "process" && h.PID == 0 && h.Engine == "" {
				h = o.resolveProcess(ctx, port, proto, h)
			}
			if h.Kind == "process" && (o.Remote == nil || h.Engine != "") {
				// The engine's listener (docker-proxy, Docker Desktop's
				// backend, rootlesskit) for a container it is still
				// starting, which the list does not show running yet; on
				// a remote engine, a socket on its host (not this
				// machine's: those are never the engine's).
				if c, ok := boundTo(key); ok {
					h = registry.Holder{Kind: "container", Container: c.Name, Project: c.Labels[LabelProject], Service: c.Labels[LabelService]}
				} else if h.Engine != "" && !stillListening(key) {
					continue // gone since the relay's last listing
				}
			}
			if h.Kind == "container" && h.Project == project && project != "" && own(h.Service) {
				continue
			}
			if h.Kind == "process" && h.PID > 0 && ownPID != nil && ownPID(h.PID) {
				continue // a process of one of the project's host services, or its forward
			}
			out = append(out, h)
		}
		return out
	}, nil
}

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
	if o.Probe == nil {
		return h
	}
	socks, err := o.Probe(ctx, map[int]bool{port: true})
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
			if o.Remote != nil {
				h.Engine, h.EngineID = o.Remote.Label(), o.EngineKey
			}
			table[key] = append(table[key], h)
		}
	}
	if o.Remote != nil && notAsked == nil {
		remote, err := o.remoteHolders(ctx, rf, published)
		if err != nil {
			return nil, nil, fmt.Errorf("list the ports held on the host of engine %s: %w", o.Remote.Label(), err)
		}
		for key, hs := range remote {
			table[key] = append(table[key], hs...)
		}
	}
	if o.Probe == nil {
		return table, cs, notAsked
	}
	socks, err := o.Probe(ctx, resolve)
	if err != nil {
		return table, cs, notAsked
	}
	seen := map[string]bool{}
	for _, s := range socks {
		key := fmt.Sprintf("%d/%s", s.Port, s.Protocol)
		if published[key] && o.Remote == nil {
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

// AssignedPorts is service → index in its ports list → host port as the
// registry has them now (requested ports where it has none), for `config`.
// It reads the registry only; an unreadable registry gives the requested
// ports.
func (o *Orchestrator) AssignedPorts(ctx context.Context, p *compose.Project) (map[string]map[int]int, error) {
	res, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return nil, err
	}
	out := map[string]map[int]int{}
	for svc, bs := range res.Bindings {
		for _, b := range bs {
			if b.Port == 0 || b.PortEnd > 0 {
				continue
			}
			if out[svc] == nil {
				out[svc] = map[int]int{}
			}
			out[svc][b.Index] = b.Port
		}
	}
	return out, nil
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
