package orchestrator

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devenv-dev/devenv/compose"
)

// Desired is what the project should look like on the engine.
type Desired struct {
	Project  string
	Dir      string
	Services map[string]*DesiredService
	Networks []DesiredNetwork
	Volumes  []DesiredVolume
	// ImageIDs are the local image IDs by normalised reference, as observed.
	ImageIDs map[string]string
}

// DesiredService is one service's container as devenv would create it.
type DesiredService struct {
	Name       string
	Spec       ContainerSpec
	Hash       string
	PortsLabel string
	DependsOn  types.DependsOnConfig
	// HasHealthcheck is true when the service (not only its image) declares one.
	HasHealthcheck bool
	StopTimeout    time.Duration
	PullPolicy     string
}

// DesiredNetwork is a network of the project.
type DesiredNetwork struct {
	Key      string // name in the compose file
	Spec     NetworkSpec
	External bool
}

// DesiredVolume is a named volume of the project.
type DesiredVolume struct {
	Key      string
	Spec     VolumeSpec
	External bool
}

// Binding is a port as devenv publishes it.
type Binding struct {
	Service  string
	Target   int
	Protocol string
	HostIP   string
	Port     int // 0 = the engine picks
	PortEnd  int
}

// Bindings maps service → its published ports after reconciliation.
type Bindings map[string][]Binding

// BuildDesired turns the compose model and the port bindings into container
// specs, names and labels exactly as docker compose would.
func BuildDesired(p *compose.Project, b Bindings, version string) (*Desired, error) {
	m := p.Model
	d := &Desired{Project: m.Name, Dir: m.WorkingDir, Services: map[string]*DesiredService{}}
	for _, key := range sortedKeys(m.Networks) {
		n := m.Networks[key]
		ext := bool(n.External)
		d.Networks = append(d.Networks, DesiredNetwork{Key: key, External: ext, Spec: NetworkSpec{
			Name: n.Name, Driver: n.Driver, Internal: n.Internal, Options: n.DriverOpts,
			Labels: merge(n.Labels, map[string]string{LabelProject: m.Name, LabelNetwork: key, LabelVersion: ComposeVersion}),
		}})
	}
	for _, key := range sortedKeys(m.Volumes) {
		v := m.Volumes[key]
		d.Volumes = append(d.Volumes, DesiredVolume{Key: key, External: bool(v.External), Spec: VolumeSpec{
			Name: v.Name, Driver: v.Driver, Options: v.DriverOpts,
			Labels: merge(v.Labels, map[string]string{LabelProject: m.Name, LabelVolume: key, LabelVersion: ComposeVersion}),
		}})
	}
	for _, name := range m.ServiceNames() {
		svc := m.Services[name]
		if svc.GetScale() > 1 {
			return nil, &compose.ConfigError{File: p.MainFile(), Key: "services." + name + ".scale", Msg: "devenv runs one container per service; remove scale/replicas"}
		}
		if svc.Image == "" {
			return nil, &compose.ConfigError{File: p.MainFile(), Key: "services." + name + ".image", Msg: "devenv does not build images; set image (build it with docker build first)"}
		}
		ds, err := buildService(p, svc, b[name], version)
		if err != nil {
			return nil, err
		}
		d.Services[name] = ds
	}
	return d, nil
}

func buildService(p *compose.Project, svc types.ServiceConfig, bindings []Binding, version string) (*DesiredService, error) {
	m := p.Model
	hash, err := compose.ServiceHash(svc)
	if err != nil {
		return nil, fmt.Errorf("hash service %s: %w", svc.Name, err)
	}
	name := svc.ContainerName
	if name == "" {
		name = fmt.Sprintf("%s-%s-1", m.Name, svc.Name)
	}
	labels := map[string]string{}
	for k, v := range svc.Labels {
		labels[k] = v
	}
	for k, v := range map[string]string{
		LabelProject: m.Name, LabelService: svc.Name, LabelNumber: "1", LabelOneoff: "False",
		LabelConfigHash: hash, LabelWorkingDir: m.WorkingDir, LabelConfigFiles: strings.Join(p.Files, ","),
		LabelVersion: ComposeVersion, LabelDependsOn: dependsLabel(svc.DependsOn), LabelManaged: version,
		LabelPorts: portsLabel(bindings),
	} {
		labels[k] = v
	}
	spec := ContainerSpec{
		Name: name, Image: svc.Image, Hostname: svc.Hostname, User: svc.User, WorkingDir: svc.WorkingDir,
		Labels: labels, Tty: svc.Tty, OpenStdin: svc.StdinOpen, Privileged: svc.Privileged, Init: svc.Init,
		ReadOnly: svc.ReadOnly, CapAdd: svc.CapAdd, CapDrop: svc.CapDrop, DNS: svc.DNS,
		StopSignal: svc.StopSignal, Restart: svc.Restart, ShmSize: int64(svc.ShmSize), Platform: svc.Platform,
		NetworkMode: svc.NetworkMode,
	}
	if svc.Entrypoint != nil {
		spec.Entrypoint = []string(svc.Entrypoint)
	}
	if svc.Command != nil {
		spec.Cmd = []string(svc.Command)
	}
	for _, k := range sortedKeys(svc.Environment) {
		if v := svc.Environment[k]; v != nil {
			spec.Env = append(spec.Env, k+"="+*v)
		}
	}
	spec.ExtraHosts = append(spec.ExtraHosts, svc.ExtraHosts.AsList(":")...)
	if len(svc.Sysctls) > 0 {
		spec.Sysctls = map[string]string(svc.Sysctls)
	}
	for _, t := range svc.Tmpfs {
		if spec.Tmpfs == nil {
			spec.Tmpfs = map[string]string{}
		}
		path, opts, _ := strings.Cut(t, ":")
		spec.Tmpfs[path] = opts
	}
	stop := 10 * time.Second
	if svc.StopGracePeriod != nil {
		stop = time.Duration(*svc.StopGracePeriod)
		secs := int(stop.Seconds())
		spec.StopTimeout = &secs
	}
	hasHC := false
	if hc := svc.HealthCheck; hc != nil {
		if hc.Disable {
			spec.Healthcheck = &Healthcheck{Test: []string{"NONE"}}
		} else if len(hc.Test) > 0 {
			hasHC = true
			h := &Healthcheck{Test: []string(hc.Test)}
			if hc.Interval != nil {
				h.Interval = time.Duration(*hc.Interval)
			}
			if hc.Timeout != nil {
				h.Timeout = time.Duration(*hc.Timeout)
			}
			if hc.StartPeriod != nil {
				h.StartPeriod = time.Duration(*hc.StartPeriod)
			}
			if hc.StartInterval != nil {
				h.StartInterval = time.Duration(*hc.StartInterval)
			}
			if hc.Retries != nil {
				h.Retries = int(*hc.Retries)
			}
			spec.Healthcheck = h
		}
	}
	for _, e := range svc.Expose {
		spec.Expose = append(spec.Expose, e)
	}
	for _, pb := range bindings {
		hp := ""
		if pb.Port > 0 {
			hp = strconv.Itoa(pb.Port)
			if pb.PortEnd > 0 {
				hp += "-" + strconv.Itoa(pb.PortEnd)
			}
		}
		spec.Ports = append(spec.Ports, PortBinding{HostIP: pb.HostIP, HostPort: hp, Target: pb.Target, Protocol: pb.Protocol})
	}
	for _, v := range svc.Volumes {
		switch v.Type {
		case types.VolumeTypeVolume:
			src := v.Source
			if src != "" {
				if vol, ok := m.Volumes[src]; ok {
					src = vol.Name
				}
			}
			spec.Mounts = append(spec.Mounts, Mount{Type: "volume", Source: src, Target: v.Target, ReadOnly: v.ReadOnly})
		case types.VolumeTypeBind:
			spec.Mounts = append(spec.Mounts, Mount{Type: "bind", Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
		case types.VolumeTypeTmpfs:
			spec.Mounts = append(spec.Mounts, Mount{Type: "tmpfs", Target: v.Target})
		default:
			return nil, &compose.ConfigError{File: p.MainFile(), Key: "services." + svc.Name + ".volumes", Msg: fmt.Sprintf("volume type %q is not supported by devenv", v.Type)}
		}
	}
	if spec.NetworkMode == "" {
		for _, key := range svc.NetworksByPriority() {
			net := m.Networks[key]
			att := NetworkAttach{Name: net.Name, Aliases: []string{svc.Name}}
			if cfg := svc.Networks[key]; cfg != nil {
				att.Aliases = append(att.Aliases, cfg.Aliases...)
				att.IPv4Address = cfg.Ipv4Address
			}
			spec.Networks = append(spec.Networks, att)
		}
	}
	return &DesiredService{
		Name: svc.Name, Spec: spec, Hash: hash, PortsLabel: labels[LabelPorts], DependsOn: svc.DependsOn,
		HasHealthcheck: hasHC, StopTimeout: stop, PullPolicy: svc.PullPolicy,
	}, nil
}

// dependsLabel renders depends_on as compose does: name:condition:restart.
func dependsLabel(deps types.DependsOnConfig) string {
	var parts []string
	for _, k := range sortedKeys(deps) {
		parts = append(parts, fmt.Sprintf("%s:%s:%t", k, deps[k].Condition, deps[k].Restart))
	}
	return strings.Join(parts, ",")
}

func portsLabel(bs []Binding) string {
	var parts []string
	for _, b := range bs {
		hp := strconv.Itoa(b.Port)
		if b.PortEnd > 0 {
			hp += "-" + strconv.Itoa(b.PortEnd)
		}
		parts = append(parts, fmt.Sprintf("%s:%s:%d/%s", b.HostIP, hp, b.Target, b.Protocol))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// Closure returns the services plus, unless noDeps, everything they depend
// on (required or not, when the dependency exists), sorted.
func Closure(d *Desired, services []string, noDeps bool) []string {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		if noDeps {
			return
		}
		if ds, ok := d.Services[s]; ok {
			for dep := range ds.DependsOn {
				if _, ok := d.Services[dep]; ok {
					visit(dep)
				}
			}
		}
	}
	for _, s := range services {
		visit(s)
	}
	return sortedKeys(seen)
}
