package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// LabelSlug is compose's label with a one-off container's random ID.
const LabelSlug = "com.docker.compose.slug"

// NotRunningError is a service with no running container to exec in.
type NotRunningError struct{ Service string }

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("service %q is not running; start it with devenv up %s", e.Service, e.Service)
}

// hostServiceError refuses a container verb for a host service.
func hostServiceError(p *compose.Project, verb, name string) error {
	return &compose.ConfigError{File: p.MainFile(), Key: compose.ExtensionKey + ".host." + name,
		Msg: fmt.Sprintf("%s is a host service (a process on this machine), not a container: devenv %s works on containers", name, verb)}
}

// ExecOptions are the flags of `exec`.
type ExecOptions struct {
	Service string
	Index   int // container number; 0 is 1
	Spec    ExecSpec
	Streams Streams
}

// Exec runs a command in a service's running container, attached, and
// returns the command's exit code.
func (o *Orchestrator) Exec(ctx context.Context, p *compose.Project, opts ExecOptions) (int, error) {
	c, err := o.runningContainer(ctx, p, "exec", opts.Service, opts.Index)
	if err != nil {
		return 0, err
	}
	spec := opts.Spec
	spec.Env = nil
	for _, kv := range opts.Spec.Env {
		// -e K takes K from the project's environment, as compose does.
		if k, _, ok := strings.Cut(kv, "="); !ok {
			if v, found := p.Model.Environment[k]; found {
				spec.Env = append(spec.Env, k+"="+v)
			}
			continue
		}
		spec.Env = append(spec.Env, kv)
	}
	return o.Engine.ExecAttached(ctx, c.ID, spec, opts.Streams)
}

// runningContainer is the service's container number index (1 when 0),
// which must be running.
func (o *Orchestrator) runningContainer(ctx context.Context, p *compose.Project, verb, service string, index int) (Container, error) {
	if _, ok := p.X.Host[service]; ok {
		return Container{}, hostServiceError(p, verb, service)
	}
	if index == 0 {
		index = 1
	}
	if err := p.Enable(ctx, []string{service}); err != nil {
		return Container{}, err
	}
	if _, err := p.SelectServices([]string{service}); err != nil {
		return Container{}, err
	}
	// One list call, filtered by the engine: exec's path is a hot one.
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject + "=" + p.Name(), LabelService + "=" + service}})
	if err != nil {
		return Container{}, err
	}
	if err := o.checkSameDir(p, cs); err != nil {
		return Container{}, err
	}
	for _, c := range cs {
		if c.Labels[LabelNumber] == strconv.Itoa(index) && c.Labels[LabelOneoff] != "True" && !isLeftover(c) && c.State == "running" {
			return c, nil
		}
	}
	return Container{}, &NotRunningError{Service: service}
}

// RunOptions are the flags of `run`.
type RunOptions struct {
	Service string
	// Cmd and Entrypoint replace the service's when not nil.
	Cmd, Entrypoint []string
	Env             []string // K=V, or K to take it from the environment
	Labels          []string // K=V
	Volumes         []string // compose's short syntax
	User, WorkDir   string
	Name            string
	CapAdd, CapDrop []string
	// Rm removes the container when it has exited; Detach starts it and
	// returns its name.
	Rm, Detach bool
	NoDeps     bool
	// ServicePorts publishes the service's ports, as the registry assigns
	// them; Publish adds HOST:CONTAINER ports of its own.
	ServicePorts bool
	Publish      []string
	UseAliases   bool
	Pull         string
	Streams      Streams
	// Attaching is called just before the container starts attached (to
	// end live progress output and put the terminal in raw mode).
	Attaching func(*Streams)
	// RemoveOrphans is passed on to the up of the dependencies.
	RemoveOrphans bool
	// Build is "always" (run --build) or "" (build the image if missing).
	Build string
}

// RunResult is what run did.
type RunResult struct {
	Name     string
	ExitCode int
}

// Run starts a one-off container of a service, named and labelled as
// compose names and labels one-offs, on the project's networks and volumes
// with its dependencies up first, attached unless Detach.
func (o *Orchestrator) Run(ctx context.Context, p *compose.Project, opts RunOptions) (RunResult, error) {
	if _, ok := p.X.Host[opts.Service]; ok {
		return RunResult{}, hostServiceError(p, "run", opts.Service)
	}
	if err := p.Enable(ctx, []string{opts.Service}); err != nil {
		return RunResult{}, err
	}
	if _, err := p.SelectServices([]string{opts.Service}); err != nil {
		return RunResult{}, err
	}
	svc := p.Model.Services[opts.Service]
	if opts.ServicePorts && len(opts.Publish) > 0 {
		return RunResult{}, &compose.ConfigError{Key: "run", Msg: "--service-ports and --publish are incompatible"}
	}
	// What the command line asks for is checked before anything starts.
	one, err := oneOffConfig(svc, opts, p.Model.Environment)
	if err != nil {
		return RunResult{}, &compose.ConfigError{File: p.MainFile(), Key: "services." + opts.Service, Msg: err.Error()}
	}
	published, err := o.publishBindings(p, opts)
	if err != nil {
		return RunResult{}, err
	}
	if opts.ServicePorts {
		if c, err := o.runningContainer(ctx, p, "run", opts.Service, 1); err == nil && len(c.Ports) > 0 {
			return RunResult{}, fmt.Errorf("%w: service %s's container %s is running and holds its ports; stop it (devenv stop %s) or run without --service-ports",
				registry.ErrConflict, opts.Service, c.Name, opts.Service)
		}
	}
	if !opts.NoDeps {
		if deps := slices.Sorted(maps.Keys(svc.DependsOn)); len(deps) > 0 {
			if _, err := o.Up(ctx, p, UpOptions{Services: deps, Pull: opts.Pull, RemoveOrphans: opts.RemoveOrphans, Build: opts.Build}); err != nil {
				return RunResult{}, err
			}
		}
	}
	bindings := published
	if opts.ServicePorts {
		// Reserved as up reserves them: the ports are the service's.
		res, err := o.ReconcilePorts(ctx, p, PortOptions{})
		if err != nil {
			return RunResult{}, err
		}
		for _, m := range res.Remaps {
			o.emit(Event{Service: m.Service, Status: "Port", Detail: m.String(), Level: Warn})
		}
		bindings = res.Bindings[opts.Service]
	}
	ds, err := buildService(p, one, bindings, o.Version)
	if err != nil {
		return RunResult{}, err
	}
	if err := o.prepareOneOff(ctx, p, ds, opts.Pull, opts.Build); err != nil {
		return RunResult{}, err
	}
	slug := randomID()
	spec := ds.Spec
	spec.Name = opts.Name
	if spec.Name == "" {
		spec.Name = fmt.Sprintf("%s-%s-run-%s", p.Name(), opts.Service, slug[:12])
	}
	spec.Labels[LabelOneoff], spec.Labels[LabelSlug] = "True", slug
	spec.Tty, spec.OpenStdin, spec.StdinOnce = opts.Streams.Tty, opts.Streams.Stdin != nil, opts.Streams.Stdin != nil
	// The engine removes it however devenv ends (a second Ctrl-C too).
	spec.AutoRemove = opts.Rm
	if !opts.UseAliases {
		for i := range spec.Networks {
			spec.Networks[i].Aliases = nil
		}
	}
	o.emit(Event{Service: opts.Service, Name: spec.Name, Status: "Creating"})
	id, err := o.Engine.Create(ctx, spec)
	if err != nil {
		return RunResult{}, fmt.Errorf("service %s: create %s: %w", opts.Service, spec.Name, err)
	}
	if opts.Detach {
		if err := o.Engine.Start(ctx, id); err != nil {
			o.removeOneOff(id, 0)
			return RunResult{}, fmt.Errorf("service %s: start %s: %w", opts.Service, spec.Name, err)
		}
		return RunResult{Name: spec.Name}, nil
	}
	if opts.Attaching != nil {
		opts.Attaching(&opts.Streams)
	}
	code, err := o.Engine.StartAttached(ctx, id, opts.Streams)
	switch {
	case ctx.Err() != nil:
		// Interrupted: the one-off stops with the command that ran it.
		_, _ = o.Engine.Stop(context.WithoutCancel(ctx), id, spec.StopSignal, ds.StopTimeout)
		if opts.Rm {
			o.removeOneOff(id, ds.StopTimeout)
		}
	case err != nil && (opts.Rm || errors.Is(err, ErrPortInUse)):
		o.removeOneOff(id, ds.StopTimeout) // it never ran, or --rm
	case opts.Rm:
		o.removeOneOff(id, 0) // the engine removes it too; whoever is first
	}
	if err != nil {
		return RunResult{Name: spec.Name}, fmt.Errorf("service %s: run %s: %w", opts.Service, spec.Name, err)
	}
	return RunResult{Name: spec.Name, ExitCode: code}, nil
}

// removeOneOff removes a one-off container and its anonymous volumes, as
// docker run --rm does, also when the run was interrupted.
func (o *Orchestrator) removeOneOff(id string, stop time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), stop+30*time.Second)
	defer cancel()
	if stop > 0 {
		_, _ = o.Engine.Stop(ctx, id, "", stop)
	}
	if err := o.Engine.Remove(ctx, id, true); err != nil && !errors.Is(err, ErrNotFound) {
		o.warn("", fmt.Sprintf("remove one-off container %s: %v", id[:min(12, len(id))], err))
	}
}

// publishBindings are the one-off's -p ports, which no other project or
// service may have reserved; they bind to 127.0.0.1 unless an IP is given.
func (o *Orchestrator) publishBindings(p *compose.Project, opts RunOptions) ([]Binding, error) {
	if len(opts.Publish) == 0 {
		return nil, nil
	}
	reg, err := o.Registry.Load()
	if err != nil {
		return nil, err
	}
	var out []Binding
	for _, spec := range opts.Publish {
		pcs, err := types.ParsePortConfig(spec)
		if err != nil {
			return nil, &compose.ConfigError{Key: "run --publish", Msg: fmt.Sprintf("%q: %v", spec, err)}
		}
		for _, pc := range pcs {
			b := Binding{Service: opts.Service, Index: -1, Target: int(pc.Target), Protocol: pc.Protocol, HostIP: pc.HostIP}
			if b.HostIP == "" {
				b.HostIP = "127.0.0.1"
			}
			if pc.Published != "" {
				if b.Port, err = strconv.Atoi(pc.Published); err != nil {
					return nil, &compose.ConfigError{Key: "run --publish", Msg: fmt.Sprintf("%q: host port %q is not a number", spec, pc.Published)}
				}
			}
			if owner := reservedBy(reg, b.Port, b.Protocol); b.Port > 0 && owner != nil && (owner.project != p.Name() || owner.service != opts.Service) {
				return nil, fmt.Errorf("%w: port %d is reserved for %s/%s in the registry; publish another port", registry.ErrConflict, b.Port, owner.project, owner.service)
			}
			out = append(out, b)
		}
	}
	return out, nil
}

type portOwner struct{ project, service string }

func reservedBy(reg *registry.Registry, port int, proto string) *portOwner {
	for _, pr := range reg.Projects {
		for _, r := range pr.Reservations {
			if r.Port == port && r.Protocol == proto {
				return &portOwner{pr.Name, r.Service}
			}
		}
	}
	return nil
}

// oneOffConfig is the service as compose runs a one-off of it: no restart
// policy, no ports of its own, the command line's overrides.
// -e K without a value takes K from env, the project's environment.
func oneOffConfig(svc types.ServiceConfig, opts RunOptions, env map[string]string) (types.ServiceConfig, error) {
	// The model's own maps and slices stay as they are.
	svc.Environment, svc.Labels = maps.Clone(svc.Environment), maps.Clone(svc.Labels)
	svc.Volumes, svc.CapAdd, svc.CapDrop = slices.Clone(svc.Volumes), slices.Clone(svc.CapAdd), slices.Clone(svc.CapDrop)
	svc.Restart, svc.Ports, svc.ContainerName = "", nil, ""
	if svc.Deploy != nil {
		deploy := *svc.Deploy
		deploy.RestartPolicy = nil
		svc.Deploy = &deploy
	}
	if opts.Cmd != nil {
		svc.Command = opts.Cmd
	}
	if opts.Entrypoint != nil {
		svc.Entrypoint = opts.Entrypoint
		if opts.Cmd == nil {
			svc.Command = types.ShellCommand{} // as compose: the image's entrypoint's arguments go with it
		}
	}
	if opts.User != "" {
		svc.User = opts.User
	}
	if opts.WorkDir != "" {
		svc.WorkingDir = opts.WorkDir
	}
	svc.CapAdd = append(svc.CapAdd, opts.CapAdd...)
	svc.CapDrop = append(svc.CapDrop, opts.CapDrop...)
	if svc.Environment == nil {
		svc.Environment = types.MappingWithEquals{}
	}
	for _, kv := range opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			v, ok = env[k]
		}
		if !ok {
			continue // unknown here: the service's own value stays
		}
		svc.Environment[k] = &v
	}
	if svc.Labels == nil {
		svc.Labels = types.Labels{}
	}
	for _, kv := range opts.Labels {
		k, v, _ := strings.Cut(kv, "=")
		svc.Labels[k] = v
	}
	for _, v := range opts.Volumes {
		vc, err := format.ParseVolume(v)
		if err != nil {
			return svc, fmt.Errorf("--volume %q: %v", v, err)
		}
		svc.Volumes = append(svc.Volumes, vc)
	}
	return svc, nil
}

// prepareOneOff creates the networks and volumes the one-off uses and
// pulls its image if the policy says so.
func (o *Orchestrator) prepareOneOff(ctx context.Context, p *compose.Project, ds *DesiredService, pull, build string) error {
	d, err := BuildDesired(p, nil, o.Version)
	if err != nil {
		return err
	}
	d.Services = map[string]*DesiredService{ds.Name: ds}
	obs, err := Observe(ctx, o.Engine, p.Name(), true)
	if err != nil {
		return err
	}
	d.ImageIDs = obs.Images
	plan, err := PlanUp(d, obs, PlanOptions{Services: []string{ds.Name}, Pull: pull, Build: build, Known: p.Model.ServiceNames()})
	if err != nil {
		return err
	}
	var steps []Step
	for _, s := range plan.Steps {
		if s.Action == ActCreateNetwork || s.Action == ActCreateVolume || s.Action == ActPull || s.Action == ActBuild {
			steps = append(steps, s)
		}
	}
	plan.Steps = steps
	if _, err := o.pull(ctx, plan, false); err != nil {
		return err
	}
	if _, err := o.build(ctx, p, d, plan, BuildOptions{}); err != nil {
		return err
	}
	if err := o.apply(ctx, d, plan, nil, UpOptions{}); err != nil {
		return err
	}
	return o.labelImages(ctx, d, plan, []string{ds.Name})
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// PullOptions are the flags of `pull`.
type PullOptions struct {
	Services []string
	// Policy is missing (pull only absent images) or always; without it
	// each service's pull_policy decides (never and build skip it).
	Policy         string
	IgnoreFailures bool
	IncludeDeps    bool
}

// Pull pulls the selected services' images, each once, in parallel.
func (o *Orchestrator) Pull(ctx context.Context, p *compose.Project, opts PullOptions) error {
	sel, err := selectNamed(ctx, p, opts.Services, opts.IncludeDeps)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	if ims, err := o.Engine.Images(ctx); err == nil {
		for _, im := range ims {
			for _, t := range append(im.Tags, im.Digests...) {
				have[NormalizeRef(t)] = true
			}
		}
	} else {
		return err
	}
	plan := &Plan{Project: p.Name()}
	seen := map[string]bool{}
	for _, name := range sel {
		svc := p.Model.Services[name]
		ref := NormalizeRef(svc.Image)
		policy := opts.Policy
		if policy == "" {
			policy = svc.PullPolicy
		}
		switch {
		case svc.Image == "" || seen[ref]:
			continue
		case policy == "never" || policy == "build":
			o.emit(Event{Service: name, Name: svc.Image, Status: "Skipped", Detail: "pull_policy " + policy})
			continue
		case (policy == "missing" || policy == "if_not_present") && have[ref]:
			o.emit(Event{Service: name, Name: svc.Image, Status: "Skipped", Detail: "image is present"})
			continue
		}
		seen[ref] = true
		plan.Steps = append(plan.Steps, Step{Action: ActPull, Service: name, Name: svc.Image})
	}
	if !opts.IgnoreFailures {
		_, err := o.pull(ctx, plan, false)
		return err
	}
	for _, s := range plan.Steps {
		if _, err := o.pull(ctx, &Plan{Steps: []Step{s}}, false); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			o.warn(s.Service, err.Error())
		}
	}
	return nil
}

// selectNamed is the named services (all when none), those behind an
// inactive profile enabled, with what they depend on when deps.
func selectNamed(ctx context.Context, p *compose.Project, names []string, deps bool) ([]string, error) {
	if err := p.Enable(ctx, names); err != nil {
		return nil, err
	}
	sel, err := p.SelectServices(names)
	if err != nil || !deps {
		return sel, err
	}
	return withDependencies(p, sel), nil
}

// withDependencies adds the services names depend on, transitively.
func withDependencies(p *compose.Project, names []string) []string {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for dep := range p.Model.Services[n].DependsOn {
			if _, ok := p.Model.Services[dep]; ok {
				visit(dep)
			}
		}
	}
	for _, n := range names {
		visit(n)
	}
	return slices.Sorted(maps.Keys(seen))
}
