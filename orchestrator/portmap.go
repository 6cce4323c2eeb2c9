package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// PortRow is one reservation in the cross-project port map.
type PortRow struct {
	Project   string `json:"project"`
	Directory string `json:"directory"`
	Service   string `json:"service"`
	Role      string `json:"role"`
	HostIP    string `json:"host_ip"`
	Port      int    `json:"port"`
	// Requested is the port the file asked for, where devenv assigned
	// another (0 when it has the one asked for, or asked for none).
	Requested   int    `json:"requested,omitempty"`
	Target      int    `json:"target"`
	Protocol    string `json:"protocol"`
	HostService bool   `json:"host_service"`
	// Engine is where a remote engine is reached, EngineID its ID; both
	// are empty for this machine's engine.
	Engine   string `json:"engine,omitempty"`
	EngineID string `json:"engine_id,omitempty"`
	// Holder says who holds the port now: "free", the project's own
	// container, another container, or a process.
	Holder string `json:"holder"`
	// Conflict is true when the holder is not the project itself.
	Conflict bool `json:"conflict"`
	// Instance is set for an instance's port (a worktree's).
	Instance string `json:"instance,omitempty"`
	// URL is the name this port serves, URLs all of them.
	URL  string   `json:"url,omitempty"`
	URLs []string `json:"urls,omitempty"`
}

// PortMap lists every reservation of every project with its holder now.
func (o *Orchestrator) PortMap(ctx context.Context, probe bool) ([]PortRow, *registry.Registry, error) {
	reg, err := o.Registry.Load()
	if err != nil {
		return nil, nil, err
	}
	var table map[string][]registry.Holder
	var notAsked error
	if probe {
		if _, table, err = o.OccupiedAll(ctx, o.registryPorts(reg), reg); err != nil {
			var na *EngineNotAskedError
			if !errors.As(err, &na) {
				return nil, nil, err
			}
			notAsked = err
		}
	}
	var rows []PortRow
	for _, p := range reg.Projects {
		for _, r := range p.Reservations {
			row := PortRow{Project: p.Name, Directory: p.Dir, Service: r.Service, Role: r.Role, HostIP: r.HostIP, Port: r.Port,
				Target: r.Target, Protocol: r.Protocol, HostService: r.Host, Engine: p.RemoteLabel(), EngineID: p.Engine, Holder: "free", Instance: p.Instance}
			if r.Requested != 0 && r.Requested != r.Port {
				row.Requested = r.Requested
			}
			for _, n := range p.Names {
				if n.Service == r.Service && n.Target == r.Target && r.Protocol == "tcp" && reg.ProxyPort() > 0 {
					row.URLs = append(row.URLs, registry.NameURL(n.Host, reg.ProxyPort()))
				}
			}
			if len(row.URLs) > 0 {
				slices.SortFunc(row.URLs, func(a, b string) int { return strings.Count(b, ".") - strings.Count(a, ".") })
				row.URL = row.URLs[0]
			}
			if row.HostIP == "" && !r.Host {
				row.HostIP = "127.0.0.1"
			}
			if r.Host {
				row.HostIP = "127.0.0.1"
			}
			if probe {
				var parts []string
				for _, h := range table[fmt.Sprintf("%d/%s", r.Port, r.Protocol)] {
					if !o.judges(p.Engine, h) {
						continue // another engine's, which is not asked from here
					}
					if registry.OwnedBy(h, p.Claim(r.Service), r.Host) {
						parts = append(parts, ownHolder(h))
					} else {
						parts = append(parts, h.String())
						row.Conflict = true
					}
				}
				if len(parts) > 0 {
					row.Holder = strings.Join(parts, "; ")
				} else if (p.Engine != o.EngineKey || notAsked != nil) && !r.Host {
					row.Holder = "free here (engine not probed)"
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, reg, notAsked
}

func ownHolder(h registry.Holder) string {
	if h.Kind == "container" {
		return "container " + h.Container
	}
	if h.PID > 0 && h.Command == "" && h.Project != "" {
		return fmt.Sprintf("process %d (devenv's, for the project)", h.PID)
	}
	if h.PID > 0 {
		return fmt.Sprintf("process %d (%s)", h.PID, h.Command)
	}
	return "a process"
}

// CheckPorts finds every conflict across all projects.
func (o *Orchestrator) CheckPorts(ctx context.Context) ([]registry.Conflict, error) {
	reg, err := o.Registry.Load()
	if err != nil {
		return nil, err
	}
	occ, _, err := o.OccupiedAll(ctx, o.registryPorts(reg), reg)
	var na *EngineNotAskedError
	if err != nil && !errors.As(err, &na) {
		return nil, err
	}
	return registry.Check(reg, occ), err
}

// ReleasePorts drops a project's reservations on engine ("local", an
// engine's address or ID; "" is the engine devenv uses now); it reports
// whether it had any, and else the other engines the project is on.
func (o *Orchestrator) ReleasePorts(ctx context.Context, project, engine string) (found bool, elsewhere []string, err error) {
	_, err = o.Registry.Update(ctx, func(reg *registry.Registry) (bool, error) {
		key := o.EngineKey
		switch engine {
		case "":
		case "local":
			key = ""
		default:
			key = engine
			for _, p := range reg.Projects {
				if p.Engine != "" && (p.Endpoint == engine || p.Engine == engine) {
					key = p.Engine
				}
			}
		}
		found = reg.Remove(project, key)
		for _, p := range reg.Projects {
			if !found && p.Name == project {
				elsewhere = append(elsewhere, p.EngineLabel())
			}
		}
		return found, nil
	})
	return found, elsewhere, err
}

// Why lists everyone claiming or holding port.
func (o *Orchestrator) Why(ctx context.Context, port int) ([]registry.Holder, error) {
	reg, err := o.Registry.Load()
	if err != nil {
		return nil, err
	}
	var out []registry.Holder
	for _, p := range reg.Projects {
		for _, r := range p.Reservations {
			if r.Port == port {
				out = append(out, p.Claim(r.Service))
			}
		}
	}
	_, table, err := o.OccupiedAll(ctx, map[int]bool{port: true}, reg)
	var na *EngineNotAskedError
	if err != nil && !errors.As(err, &na) {
		return nil, err
	}
	for _, proto := range []string{"tcp", "udp", "sctp"} {
		out = append(out, table[fmt.Sprintf("%d/%s", port, proto)]...)
	}
	return out, err
}

// registered is the project's entry in the registry on this engine; nil
// when it has none or the registry cannot be read (callers fall back to
// the declared ports).
func (o *Orchestrator) registered(project string) *registry.Project {
	reg, err := o.Registry.Load()
	if err != nil {
		return nil
	}
	return reg.Find(project, o.EngineKey)
}

// Port answers `port SERVICE PRIVATE_PORT`: the running container's binding,
// else the registry assignment devenv would publish.
func (o *Orchestrator) Port(ctx context.Context, p *compose.Project, service string, target int, proto string) (string, error) {
	if h, ok := p.X.Host[service]; ok && h.Port == target {
		port := o.registered(p.Name()).HostPort(service, h.Port)
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
	}
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject + "=" + p.Name(), LabelService + "=" + service}})
	var notAsked error
	switch {
	case err != nil && errors.Is(err, ErrEngineUnreachable):
		// The registry's assignment answers, as before up.
		notAsked = &EngineNotAskedError{Err: err}
	case err != nil:
		return "", err
	}
	for _, c := range cs {
		for _, pb := range c.Ports {
			if pb.Target == target && pb.Protocol == proto && pb.HostPort != "" {
				ip := pb.HostIP
				if ip == "" {
					ip = "0.0.0.0"
				}
				return net.JoinHostPort(ip, pb.HostPort), nil
			}
		}
	}
	res, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return "", err
	}
	for _, b := range res.Bindings[service] {
		if b.Target == target && b.Protocol == proto && b.Port > 0 {
			ip := b.HostIP
			if ip == "" {
				ip = "0.0.0.0"
			}
			return net.JoinHostPort(ip, strconv.Itoa(b.Port)), notAsked
		}
	}
	return "", &compose.ConfigError{File: p.MainFile(), Key: "services." + service + ".ports", Msg: fmt.Sprintf("no published port for %d/%s", target, proto)}
}
