package plan

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/graph"
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
	// Build is the service's build section; nil for an image-only service.
	Build *types.BuildConfig
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
	Index    int // position in the service's ports list
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
	names := map[string]string{}
	for _, name := range m.ServiceNames() {
		svc := m.Services[name]
		cname := containerName(m.Name, svc)
		if other, dup := names[cname]; dup {
			return nil, &compose.ConfigError{File: p.MainFile(), Key: "services." + name + ".container_name",
				Msg: fmt.Sprintf("container name %q is also used by service %s", cname, other)}
		}
		names[cname] = name
		if svc.GetScale() > 1 {
			return nil, &compose.ConfigError{File: p.MainFile(), Key: "services." + name + ".scale", Msg: "devenv runs one container per service; remove scale/replicas"}
		}
		if svc.Image == "" && svc.Build == nil {
			return nil, &compose.ConfigError{File: p.MainFile(), Key: "services." + name, Msg: "a service needs image: or build:"}
		}

		ds, err := BuildService(p, svc, b[name], version)
		if err != nil {
			return nil, err
		}
		d.Services[name] = ds
	}
	return d, nil
}

func BuildService(p *compose.Project, svc types.ServiceConfig, bindings []Binding, version string) (*DesiredService, error) {
	hash, err := compose.ServiceHash(svc)
	if err != nil {
		return nil, fmt.Errorf("hash service %s: %w", svc.Name, err)
	}
	spec := baseSpec(svc)
	spec.Image = ImageName(p.Model.Name, svc)
	spec.Name = containerName(p.Model.Name, svc)
	spec.Labels = serviceLabels(p, svc, hash, PortsLabel(bindings), version)
	spec.Env = environment(svc)
	spec.Healthcheck = healthcheck(svc.HealthCheck)
	spec.Ports = portBindings(bindings)
	if spec.Mounts, err = mounts(p, svc); err != nil {
		return nil, err
	}
	if spec.NetworkMode == "" {
		spec.Networks = networkAttachments(p.Model, svc)
	}
	stop := 10 * time.Second
	if svc.StopGracePeriod != nil {
		stop = time.Duration(*svc.StopGracePeriod)
		secs := int(stop.Seconds())
		spec.StopTimeout = &secs
	}
	return &DesiredService{
		Name: svc.Name, Spec: spec, Hash: hash, PortsLabel: spec.Labels[LabelPorts], DependsOn: svc.DependsOn,
		HasHealthcheck: spec.Healthcheck != nil && spec.Healthcheck.Test[0] != "NONE", StopTimeout: stop,
		PullPolicy: svc.PullPolicy, Build: svc.Build,
	}, nil
}

// containerName is container_name, else compose's PROJECT-SERVICE-1.
func containerName(project string, svc types.ServiceConfig) string {
	if svc.ContainerName != "" {
		return svc.ContainerName
	}
	return fmt.Sprintf("%s-%s-1", project, svc.Name)
}

// serviceLabels are the service's own labels plus compose's and devenv's.
func serviceLabels(p *compose.Project, svc types.ServiceConfig, hash, ports, version string) map[string]string {
	m := p.Model
	labels := maps.Clone(map[string]string(svc.Labels))
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, map[string]string{
		LabelProject: m.Name, LabelService: svc.Name, LabelNumber: "1", LabelOneoff: "False",
		LabelConfigHash: hash, LabelWorkingDir: m.WorkingDir, LabelConfigFiles: strings.Join(p.Files, ","),
		LabelVersion: ComposeVersion, LabelDependsOn: dependsLabel(svc.DependsOn), LabelManaged: version,
		LabelPorts: ports,
	})
	return labels
}

// baseSpec copies the settings that map one to one.
func baseSpec(svc types.ServiceConfig) ContainerSpec {
	spec := ContainerSpec{
		Image: svc.Image, Hostname: svc.Hostname, User: svc.User, WorkingDir: svc.WorkingDir,
		Tty: svc.Tty, OpenStdin: svc.StdinOpen, Privileged: svc.Privileged, Init: svc.Init,
		ReadOnly: svc.ReadOnly, CapAdd: svc.CapAdd, CapDrop: svc.CapDrop, DNS: svc.DNS,
		StopSignal: svc.StopSignal, Restart: svc.Restart, ShmSize: int64(svc.ShmSize), Platform: svc.Platform,
		NetworkMode: svc.NetworkMode, Expose: slices.Clone([]string(svc.Expose)),
		ExtraHosts: svc.ExtraHosts.AsList(":"),
	}
	if svc.Entrypoint != nil {
		spec.Entrypoint = []string(svc.Entrypoint)
	}
	if svc.Command != nil {
		spec.Cmd = []string(svc.Command)
	}
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
	return spec
}

func environment(svc types.ServiceConfig) []string {
	var env []string
	for _, k := range sortedKeys(svc.Environment) {
		if v := svc.Environment[k]; v != nil {
			env = append(env, k+"="+*v)
		}
	}
	return env
}

// healthcheck is the service's own healthcheck; nil leaves the image's.
func healthcheck(hc *types.HealthCheckConfig) *Healthcheck {
	switch {
	case hc == nil:
		return nil
	case hc.Disable:
		return &Healthcheck{Test: []string{"NONE"}}
	case len(hc.Test) == 0:
		return nil
	}
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
	return h
}

func portBindings(bindings []Binding) []PortBinding {
	var out []PortBinding
	for _, b := range bindings {
		out = append(out, PortBinding{HostIP: b.HostIP, HostPort: b.hostPort(), Target: b.Target, Protocol: b.Protocol})
	}
	return out
}

// hostPort renders the binding's host port as the engine takes it: "" (the
// engine picks), "5434", or a range "8000-8010".
func (b Binding) hostPort() string {
	if b.Port == 0 {
		return ""
	}
	hp := strconv.Itoa(b.Port)
	if b.PortEnd > 0 {
		hp += "-" + strconv.Itoa(b.PortEnd)
	}
	return hp
}

func mounts(p *compose.Project, svc types.ServiceConfig) ([]Mount, error) {
	var out []Mount
	for _, v := range svc.Volumes {
		switch v.Type {
		case types.VolumeTypeVolume:
			src := v.Source
			if vol, ok := p.Model.Volumes[src]; ok && src != "" {
				src = vol.Name
			}
			out = append(out, Mount{Type: "volume", Source: src, Target: v.Target, ReadOnly: v.ReadOnly})
		case types.VolumeTypeBind:
			m := Mount{Type: "bind", Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
			if b := v.Bind; b != nil {
				m.CreateHostPath, m.SELinux, m.Propagation = bool(b.CreateHostPath), b.SELinux, b.Propagation
			}
			out = append(out, m)
		case types.VolumeTypeTmpfs:
			out = append(out, Mount{Type: "tmpfs", Target: v.Target})
		default:
			return nil, &compose.ConfigError{File: p.MainFile(), Key: "services." + svc.Name + ".volumes", Msg: fmt.Sprintf("volume type %q is not supported by devenv", v.Type)}
		}
	}
	return out, nil
}

func networkAttachments(m *types.Project, svc types.ServiceConfig) []NetworkAttach {
	var out []NetworkAttach
	for _, key := range svc.NetworksByPriority() {
		att := NetworkAttach{Name: m.Networks[key].Name, Aliases: []string{svc.Name}}
		if cfg := svc.Networks[key]; cfg != nil {
			att.Aliases = append(att.Aliases, cfg.Aliases...)
			att.IPv4Address = cfg.Ipv4Address
		}
		out = append(out, att)
	}
	return out
}

// dependsLabel renders depends_on as compose does: name:condition:restart.
func dependsLabel(deps types.DependsOnConfig) string {
	var parts []string
	for _, k := range sortedKeys(deps) {
		parts = append(parts, fmt.Sprintf("%s:%s:%t", k, deps[k].Condition, deps[k].Restart))
	}
	return strings.Join(parts, ",")
}

func PortsLabel(bs []Binding) string {
	var parts []string
	for _, b := range bs {
		hp := b.hostPort()
		if hp == "" {
			hp = "0"
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
	if noDeps {
		return slices.Compact(slices.Sorted(slices.Values(services)))
	}
	g := graph.New(slices.Collect(maps.Keys(d.Services)), func(s string) []string {
		return slices.Collect(maps.Keys(d.Services[s].DependsOn))
	})
	return g.Closure(services)
}

// ImageName is the service's image: image: when set, else compose's
// PROJECT-SERVICE for a service that is built.
func ImageName(project string, svc types.ServiceConfig) string {
	if svc.Image != "" {
		return svc.Image
	}
	return project + "-" + svc.Name
}

// CheckBuild refuses what the engine's classic builder, devenv's builder,
// cannot do, instead of dropping it.
func CheckBuild(file string, svc types.ServiceConfig) error {
	b := svc.Build
	key := "services." + svc.Name + ".build"
	only := func(what string) error {
		return &compose.ConfigError{File: file, Key: key + "." + what,
			Msg: fmt.Sprintf("devenv builds with the engine's classic builder, which has no %s (BuildKit's); build this image with docker buildx and set image:", what)}
	}
	switch {
	case len(b.Secrets) > 0:
		return only("secrets")
	case len(b.SSH) > 0:
		return only("ssh")
	case len(b.CacheTo) > 0:
		return only("cache_to")
	case len(b.AdditionalContexts) > 0:
		return only("additional_contexts")
	case len(b.Platforms) > 1:
		return only("platforms")
	case b.Privileged:
		return only("privileged")
	case len(b.Entitlements) > 0:
		return only("entitlements")
	case len(b.NoCacheFilter) > 0:
		return only("no_cache_filter")
	case strings.Contains(b.Context, "://") || strings.HasPrefix(b.Context, "git@"):
		return &compose.ConfigError{File: file, Key: key + ".context", Msg: "devenv builds from a local directory; clone the repository and point context at it"}
	}
	return nil
}
