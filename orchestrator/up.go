package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// UpOptions are the flags of `up`.
type UpOptions struct {
	Services      []string
	NoDeps        bool
	ForceRecreate bool
	NoRecreate    bool
	RemoveOrphans bool
	NoWait        bool
	// StopTimeout replaces each service's stop_grace_period when a
	// recreate stops the old container (up --timeout).
	StopTimeout *time.Duration
	// QuietPull reports no pull progress.
	QuietPull bool
	// Build is "always" (--build), "never" (--no-build) or "" (build what
	// is missing); QuietBuild reports no build steps.
	Build       string
	QuietBuild  bool
	WaitTimeout time.Duration
	Pull        string
	Ports       PortOptions
	// DryRun plans and returns without changing anything.
	DryRun bool
	// NoStart is compose's create: create and recreate, start nothing.
	NoStart bool
	// NoEnvFiles leaves the declared env files as they are (up
	// --no-env-files); drift is only reported.
	NoEnvFiles bool
	// FromInstance fills this instance's empty named volumes from another
	// instance's ("main": the main checkout's) before any container
	// starts (up --from-instance); a volume with data is refused.
	FromInstance string
	// readyFor are containers host services depend on as service_healthy.
	readyFor []string
	// seed is what apply fills volumes from.
	seed seeding
}

// seeding is where an instance's volumes come from: --from-instance
// (strict: a volume with data is refused), else x-devenv.instances.seed
// (volumes with data are left as they are).
type seeding struct {
	project *compose.Project
	from    string
	strict  bool
}

// UpResult says what up did.
type UpResult struct {
	Plan  *Plan
	Ports *PortResult
}

// ServiceError is a service that failed to start or become healthy.
type ServiceError struct {
	Service  string
	Reason   string
	ExitCode int
	Exited   bool
	Health   string
	Logs     string
}

func (e *ServiceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s %s", e.Service, e.Reason)
	if e.Exited {
		fmt.Fprintf(&b, " (exit code %d)", e.ExitCode)
	}
	if e.Health != "" {
		fmt.Fprintf(&b, "; last health check output: %s", oneLine(e.Health))
	}
	if e.Logs != "" {
		fmt.Fprintf(&b, "\nlast log lines of %s:\n%s", e.Service, strings.TrimRight(e.Logs, "\n"))
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Up reconciles ports, then creates what is missing, recreates what changed,
// starts what is stopped in dependency order, and waits for health.
func (o *Orchestrator) Up(ctx context.Context, p *compose.Project, opts UpOptions) (*UpResult, error) {
	selected, hosts, err := o.selectUp(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	if opts.NoStart {
		hosts = nil // host services have nothing to create
	}
	opts.Ports.RemoveOrphans, opts.Ports.RunHosts = opts.RemoveOrphans, hosts
	opts.readyFor = healthyFor(p, hosts)
	// Everything that can be found wrong is found before the first change.
	if err := o.Engine.Ping(ctx); err != nil {
		return nil, err
	}
	if p.Instance != "" && !opts.DryRun {
		o.emit(Event{Name: p.Name(), Status: "Instance", Detail: instanceNote(p)})
	}
	// One devenv at a time changes a project: a second up waits, then
	// finds the first one's work done.
	if !opts.DryRun {
		var unlock func()
		if ctx, unlock, err = o.lockProject(ctx, p.Name()); err != nil {
			return nil, err
		}
		defer unlock()
	}
	// First pass: reconcile without writing, plan, and find every conflict,
	// bad input and missing image before anything changes.
	preview := opts.Ports
	preview.DryRun, preview.CheckHolders = true, true
	ports, err := o.ReconcilePorts(ctx, p, preview)
	if err != nil {
		return nil, err
	}
	d, services, plan, err := o.planUp(ctx, p, ports, selected, opts)
	if err != nil {
		return nil, err
	}
	res := &UpResult{Plan: plan, Ports: ports}
	hostSteps, err := o.planHosts(p, ports, hosts)
	if err != nil {
		return nil, err
	}
	if err := o.checkEnvFiles(p, ports, opts); err != nil {
		return nil, err
	}
	if opts.DryRun {
		plan.Steps = append(plan.Steps, hostSteps...)
		return res, nil
	}
	pulled, err := o.pull(ctx, plan, opts.QuietPull)
	if err != nil {
		return res, err
	}
	// Images are built before anything is reserved or created: a failed
	// build changes nothing.
	built, err := o.build(ctx, p, d, plan, BuildOptions{Quiet: opts.QuietBuild})
	if err != nil {
		return res, err
	}
	pulled = pulled || built
	// Now reserve for real, under the registry lock. Another devenv may
	// have taken a port since the first pass, or a pull brought a new image
	// (or the same one again): then plan again.
	committed, err := o.ReconcilePorts(ctx, p, opts.Ports)
	if err != nil {
		return res, err
	}
	if pulled || !sameBindingMaps(ports.Bindings, committed.Bindings) {
		if d, services, plan, err = o.planUp(ctx, p, committed, selected, opts); err != nil {
			return res, err
		}
	}
	res.Ports, res.Plan = committed, plan
	return res, o.upApply(ctx, p, d, plan, services, committed, hosts, opts)
}

// healthyFor are the containers host services wait for as
// service_healthy.
func healthyFor(p *compose.Project, hosts []string) []string {
	var out []string
	for _, h := range hosts {
		for dep, cond := range p.X.Host[h].DependsOn {
			if _, isHost := p.X.Host[dep]; !isHost && cond == "service_healthy" {
				out = append(out, dep)
			}
		}
	}
	return out
}

// upApply is up's second half, once ports are reserved: say what moved,
// write the env files, stop orphan host services, apply the plan, forward
// a remote engine's ports, start the host services.
func (o *Orchestrator) upApply(ctx context.Context, p *compose.Project, d *Desired, plan *Plan, services []string, committed *PortResult, hosts []string, opts UpOptions) error {
	for _, m := range committed.Remaps {
		o.emit(Event{Service: m.Service, Status: "Port", Detail: m.String(), Level: Warn})
	}
	for _, w := range committed.Warnings {
		o.warn("", w)
	}
	if err := o.upEnvFiles(p, committed, opts); err != nil {
		return err
	}
	// Orphan host services go first, as orphan containers do, so nothing
	// that starts finds their ports held.
	if err := o.upOrphanHosts(ctx, p, opts.RemoveOrphans); err != nil {
		return err
	}
	switch {
	case opts.FromInstance != "":
		opts.seed = seeding{project: p, from: opts.FromInstance, strict: true}
	case p.Instance != "" && p.X.Instances.Seed != "":
		opts.seed = seeding{project: p, from: p.X.Instances.Seed}
	}
	if err := o.apply(ctx, d, plan, services, opts); err != nil {
		return err
	}
	// A remote engine's ports reach this machine before the host services
	// that use them start.
	if !opts.NoStart {
		if err := o.reach().ensure(ctx, p, committed); err != nil {
			return err
		}
	}
	return o.upHosts(ctx, p, committed, hosts, opts)
}

// selectUp splits the named services into compose services and host
// services: none named is every compose service and every active host
// service with a command; a named host service brings the services it
// depends on (unless --no-deps). Naming a compose service behind an
// inactive profile enables it.
func (o *Orchestrator) selectUp(ctx context.Context, p *compose.Project, opts UpOptions) (containers, hosts []string, err error) {
	named, namedHosts := plan.SplitServices(p, opts.Services)
	if len(opts.Services) == 0 {
		hosts = plan.ManagedHosts(p, nil)
	} else if len(namedHosts) > 0 {
		if !opts.NoDeps {
			deps, more := plan.HostDeps(p, namedHosts)
			named = append(named, deps...)
			namedHosts = append(namedHosts, more...)
		}
		hosts = plan.ManagedHosts(p, namedHosts)
	}
	if err := p.Enable(ctx, named); err != nil {
		return nil, nil, err
	}
	if len(opts.Services) > 0 && len(named) == 0 {
		return []string{}, hosts, nil
	}
	containers, err = p.SelectServices(slices.Compact(slices.Sorted(slices.Values(named))))
	return containers, hosts, err
}

// planHosts says what up does with each host service: start, keep or
// restart (its command, env or dir changed).
func (o *Orchestrator) planHosts(p *compose.Project, ports *PortResult, hosts []string) ([]Step, error) {
	if len(hosts) > 0 && o.Hosts == nil {
		return nil, &compose.ConfigError{File: p.MainFile(), Key: compose.ExtensionKey + ".host." + hosts[0] + ".command", Msg: ErrHostUnsupported.Error()}
	}
	ph, _ := placeholders(p, ports)
	var steps []Step
	for _, name := range plan.HostOrder(p, hosts) {
		spec, err := hostSpec(p, name, ph, o.CACert)
		if err != nil {
			return nil, err
		}
		st, running := o.Hosts.Status(p.Name(), name)
		switch {
		case !running || st.Status == "exited" || st.Status == "failed":
			steps = append(steps, Step{Action: ActStartHost, Service: name, Reason: strings.Join(spec.Args, " ")})
		case st.Hash != spec.Hash:
			steps = append(steps, Step{Action: ActRestartHost, Service: name, Reason: "command, env or dir changed"})
		default:
			steps = append(steps, Step{Action: ActKeepHost, Service: name, Reason: fmt.Sprintf("pid %d, unchanged", st.PID)})
		}
	}
	for _, h := range o.orphanHosts(p) {
		steps = append(steps, Step{Action: ActWarnOrphan, Service: h.name, Name: "host", Reason: fmt.Sprintf("host service, pid %d, not in the compose file; --remove-orphans stops it", h.pid)})
	}
	return steps, nil
}

func (o *Orchestrator) planUp(ctx context.Context, p *compose.Project, ports *PortResult, selected []string, opts UpOptions) (*Desired, []string, *Plan, error) {
	d, err := BuildDesired(p, ports.Bindings, o.Version)
	if err != nil {
		return nil, nil, nil, err
	}
	if opts.StopTimeout != nil {
		for _, ds := range d.Services {
			ds.StopTimeout = *opts.StopTimeout
		}
	}
	services := Closure(d, selected, opts.NoDeps)
	obs, err := Observe(ctx, o.Engine, d.Project, true)
	if err != nil {
		return nil, nil, nil, err
	}
	d.ImageIDs = obs.Images
	if err := o.checkSameDir(p, obs.Containers); err != nil {
		return nil, nil, nil, err
	}
	if err := o.findForeign(ctx, d, obs, services); err != nil {
		return nil, nil, nil, err
	}
	known := append(p.Model.ServiceNames(), sortedKeys(p.Model.DisabledServices)...)
	plan, err := PlanUp(d, obs, PlanOptions{Services: services, ForceRecreate: opts.ForceRecreate, NoRecreate: opts.NoRecreate, RemoveOrphans: opts.RemoveOrphans, Pull: opts.Pull, Known: known, NoStart: opts.NoStart, Build: opts.Build})
	if err != nil {
		return nil, nil, nil, err
	}
	return d, services, plan, nil
}

func sameBindingMaps(a, b Bindings) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if plan.PortsLabel(v) != plan.PortsLabel(b[k]) {
			return false
		}
	}
	return true
}

// instanceNote says, once per up, what makes an instance its own and which
// volumes every instance shares (an explicit name: or external: true).
func instanceNote(p *compose.Project) string {
	note := fmt.Sprintf("instance %s: its own containers (container_name gets -%s), ports, volumes, env files and names", p.Instance, p.Instance)
	var shared []string
	for _, key := range sortedKeys(p.Model.Volumes) {
		if v := p.Model.Volumes[key]; bool(v.External) || v.Name != p.Name()+"_"+key {
			shared = append(shared, v.Name)
		}
	}
	if len(shared) > 0 {
		note += "; shared by every instance: " + strings.Join(shared, ", ") + " (external or named in the file)"
	}
	return note
}
