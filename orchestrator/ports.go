package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

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
	// CheckHolders makes a DryRun also look at who holds ports now, so it fails
	// exactly as the real reconcile would.
	CheckHolders bool
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
	// ProxyPort is the names proxy's HTTPS port (0 before it first ran).
	ProxyPort int
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
	names, err := p.Names()
	if err != nil {
		return nil, err
	}
	regReqs := toRegistryRequests(reqs, opts.RunHosts)
	req := registry.Request{Names: registryNames(names), Instance: p.Instance,
		Project: p.Name(), Dir: p.Dir(), Engine: o.EngineKey, Endpoint: o.EngineEndpoint, Stack: p.X.Stack, Ports: regReqs,
		Strict: opts.Strict, Reassign: opts.Reassign, Only: opts.Only, Adopt: opts.Adopt,
		Keep: sortedKeys(p.Model.DisabledServices),
	}
	dirExists := o.DirExists
	if dirExists == nil {
		dirExists = func(d string) bool { _, err := os.Stat(d); return err == nil }
	}
	var result registry.Result
	publishAll, proxyPort := false, 0
	if opts.DryRun {
		reg, err := o.Registry.Load()
		if err != nil {
			var pe *registry.ParseError
			if opts.CheckHolders || !errors.As(err, &pe) {
				return nil, err
			}
			reg = registry.New() // read-only commands still work
		}
		var occupied registry.Occupied
		if opts.CheckHolders {
			if occupied, err = o.Occupied(ctx, p, ownServices(p, opts), o.ownProcess(p, opts), true); err != nil {
				return nil, err
			}
		}
		publishAll, proxyPort = reg.Publish == "all", reg.ProxyPort()
		result, err = registry.Reconcile(reg, req, occupied, dirExists)
		if err != nil {
			var de *registry.DirError
			if opts.CheckHolders || !errors.As(err, &de) {
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
			publishAll, proxyPort = reg.Publish == "all", reg.ProxyPort()
			return r.Changed, err
		})
		if err != nil {
			return nil, err
		}
	}
	res := bindingsOf(reqs, regReqs, result, opts.PublishAll || publishAll)
	res.ProxyPort = proxyPort
	return res, nil
}

// bindingsOf are the containers' port bindings for the reconciled
// requests: the assigned host ports, bound to 127.0.0.1 unless publishAll
// or the request says all interfaces; a database on all interfaces is
// warned about.
func bindingsOf(reqs []compose.PortRequest, regReqs []registry.PortRequest, result registry.Result, publishAll bool) *PortResult {
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
		if b.HostIP == "" && !r.AllInterfaces && !publishAll {
			b.HostIP = "127.0.0.1"
		}
		if (b.HostIP == "" || b.HostIP == "0.0.0.0" || b.HostIP == "::") && IsDatabaseRole(r.Role) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("service %s (%s) publishes port %d on all interfaces: anyone on your network can reach it", r.Service, r.Role, b.Port))
		}
		res.Bindings[r.Service] = append(res.Bindings[r.Service], b)
	}
	return res
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
			now, nowDone = o.reach().listeningNow(ctx, rf), true
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
			if h.Kind == "process" && (o.reach().onThisMachine() || h.Engine != "") {
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

// registryNames are the project's names as the registry records them.
func registryNames(names []compose.Name) []registry.Name {
	out := make([]registry.Name, 0, len(names))
	for _, n := range names {
		out = append(out, registry.Name(n))
	}
	return out
}
