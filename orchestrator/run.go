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
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
	"github.com/devenv-dev/devenv/registry"
)

// LabelSlug is compose's label with a one-off container's random ID.
const LabelSlug = "com.docker.compose.slug"

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
	one, err := plan.OneOffConfig(svc, plan.OneOff{Cmd: opts.Cmd, Entrypoint: opts.Entrypoint, Env: opts.Env, Labels: opts.Labels,
		Volumes: opts.Volumes, User: opts.User, WorkDir: opts.WorkDir, CapAdd: opts.CapAdd, CapDrop: opts.CapDrop}, p.Model.Environment)
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
	ds, err := plan.BuildService(p, one, bindings, o.Version)
	if err != nil {
		return RunResult{}, err
	}
	if err := o.prepareOneOff(ctx, p, ds, opts.Pull, opts.Build); err != nil {
		return RunResult{}, err
	}
	return o.runOneOff(ctx, p, ds, opts)
}

// oneOffSpec is the one-off container of ds: named and labelled as
// compose's one-offs, attached as opts says.
func oneOffSpec(p *compose.Project, ds *DesiredService, opts RunOptions) ContainerSpec {
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
	return spec
}

// runOneOff creates the one-off and starts it, detached or attached; an
// interrupted or --rm one is removed.
func (o *Orchestrator) runOneOff(ctx context.Context, p *compose.Project, ds *DesiredService, opts RunOptions) (RunResult, error) {
	spec := oneOffSpec(p, ds, opts)
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
		o.warn("", fmt.Sprintf("remove one-off container %s: %v", plan.ShortID(id), err))
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
