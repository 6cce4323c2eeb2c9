package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/internal/errdefs"
	"github.com/devenv-dev/devenv/internal/graph"
	"github.com/devenv-dev/devenv/orchestrator/engine"

	"github.com/devenv-dev/devenv/compose"
)

// Action is what a step does.
type Action string

// The actions of an up plan.
const (
	ActCreateNetwork Action = "create network"
	ActCreateVolume  Action = "create volume"
	ActPull          Action = "pull"
	ActBuild         Action = "build"
	ActCreate        Action = "create"
	ActRecreate      Action = "recreate"
	ActStart         Action = "start"
	ActKeep          Action = "keep"
	ActRestart       Action = "restart"
	ActRemoveOrphan  Action = "remove orphan"
	ActWarnOrphan    Action = "orphan"
	// ActRemoveLeftover removes a container an interrupted recreate left
	// renamed aside.
	ActRemoveLeftover Action = "remove leftover"
	ActStartHost      Action = "start host"
	ActRestartHost    Action = "restart host"
	ActKeepHost       Action = "keep host"
)

// Step is one thing to do.
type Step struct {
	Action  Action
	Service string // for container and pull steps
	Name    string // resource name (container, network, volume, image)
	Reason  string
	// Existing is the container a recreate, start or keep step is about.
	Existing *Container
	// NoStart creates or recreates without starting (compose's create).
	NoStart bool
	// After are the steps of a lifecycle plan that finish before this one.
	After []int
	// Signal and Timeout are a stop's or a kill's; Volumes has a remove
	// take the container's anonymous volumes; ID is a network's.
	Signal  string
	Timeout time.Duration
	Volumes bool
	ID      string
	// Wait has a host service's start wait for its health.
	Wait bool
	// Calls are an up container step's engine calls, in order.
	Calls []Call
}

func (s Step) String() string {
	var b strings.Builder
	b.WriteString(string(s.Action))
	if s.Service != "" {
		b.WriteString(" " + s.Service)
		if s.Name != "" && s.Action != ActPull && s.Action != ActBuild {
			b.WriteString(" (" + s.Name + ")")
		}
		if s.Action == ActPull || s.Action == ActBuild {
			b.WriteString(" " + s.Name)
		}
	} else if s.Name != "" {
		b.WriteString(" " + s.Name)
	}
	if s.Reason != "" {
		b.WriteString(": " + s.Reason)
	}
	return b.String()
}

// Plan is the ordered list of steps for one command.
type Plan struct {
	Project string
	Steps   []Step
}

// String renders one step per line; tests compare it.
func (p *Plan) String() string {
	var lines []string
	for _, s := range p.Steps {
		lines = append(lines, s.String())
	}
	return strings.Join(lines, "\n")
}

// Render is what a dry run prints: one step a line, and under an up
// container step, each engine call it makes.
func (p *Plan) Render() string {
	var b strings.Builder
	for i, s := range p.Steps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s.String())
		for _, c := range s.Calls {
			b.WriteString("\n  " + c.String())
		}
	}
	return b.String()
}

// IsContainerStep tells the steps that bring one service's container up.
func IsContainerStep(a Action) bool {
	return a == ActCreate || a == ActRecreate || a == ActStart || a == ActKeep || a == ActRestart
}

// Step returns the container step of service.
func (p *Plan) Step(service string) (Step, bool) {
	for _, s := range p.Steps {
		if IsContainerStep(s.Action) && s.Service == service {
			return s, true
		}
	}
	return Step{}, false
}

// PlanOptions shape an up plan.
type PlanOptions struct {
	Services      []string // already closed over dependencies
	ForceRecreate bool
	// NoRecreate keeps existing containers even when they differ from the
	// file (compose's --no-recreate).
	NoRecreate    bool
	RemoveOrphans bool
	Pull          string // missing (default), never, always
	// Build is "always" (up --build), "never" (--no-build) or "" (build
	// images that are missing, or pull_policy: build).
	Build string
	// Known are all services of the file, also those behind inactive
	// profiles: their containers are not orphans.
	Known []string
	// NoStart plans compose's create: containers are created or recreated
	// but not started, and stopped ones stay stopped.
	NoStart bool
}

// PlanUp is the pure heart of `up`: from the desired model and what the
// engine has, the steps that converge them. It fails before any step when a
// container name is taken by a foreign container or an image is missing
// under --pull never.
func PlanUp(d *Desired, o *Observed, opts PlanOptions) (*Plan, error) {
	p := &Plan{Project: d.Project}
	haveNet := map[string]bool{}
	for _, n := range o.Networks {
		haveNet[n.Name] = true
	}
	for _, n := range d.Networks {
		if n.External || haveNet[n.Spec.Name] || !networkUsed(d, opts.Services, n.Spec.Name) {
			continue
		}
		p.Steps = append(p.Steps, Step{Action: ActCreateNetwork, Name: n.Spec.Name})
	}
	haveVol := map[string]bool{}
	for _, v := range o.Volumes {
		haveVol[v.Name] = true
	}
	for _, v := range d.Volumes {
		if v.External || haveVol[v.Spec.Name] || !volumeUsed(d, opts.Services, v.Spec.Name) {
			continue
		}
		p.Steps = append(p.Steps, Step{Action: ActCreateVolume, Name: v.Spec.Name})
	}
	pulls, err := planPulls(d, o, opts)
	if err != nil {
		return nil, err
	}
	p.Steps = append(p.Steps, pulls...)
	// Dependencies first, so the plan reads in the order it runs.
	for _, name := range desiredGraph(d).Order(opts.Services) {
		steps, err := PlanService(d.Services[name], o, opts.ForceRecreate, opts.NoRecreate)
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, steps...)
	}
	for i, s := range p.Steps {
		p.Steps[i] = NoStartStep(s, opts.NoStart)
	}
	if !opts.NoStart {
		planRestarts(d, p)
	}
	for _, c := range o.Containers {
		svc := c.Labels[LabelService]
		if _, ok := d.Services[svc]; ok || slices.Contains(opts.Known, svc) {
			continue
		}
		cc := c
		if opts.RemoveOrphans {
			p.Steps = append(p.Steps, Step{Action: ActRemoveOrphan, Service: svc, Name: c.Name, Existing: &cc})
		} else {
			p.Steps = append(p.Steps, Step{Action: ActWarnOrphan, Service: svc, Name: c.Name, Reason: "not in the compose file; --remove-orphans removes it", Existing: &cc})
		}
	}
	for i, s := range p.Steps {
		switch {
		case IsContainerStep(s.Action):
			p.Steps[i].Calls = ContainerCalls(d.Services[s.Service], s)
		case s.Action == ActRemoveOrphan || s.Action == ActRemoveLeftover:
			p.Steps[i].Calls = []Call{{Op: CallStop, Name: s.Name}, {Op: CallRemove, Name: s.Name}}
		}
	}
	return p, nil
}

// pullPolicy is --pull, else the service's pull_policy, in compose's
// words: missing (also if_not_present), never, always.
func pullPolicy(flag, service string) string {
	policy := flag
	if policy == "" {
		policy = service
	}
	switch {
	case policy == "", policy == "if_not_present", policy == "missing":
		return "missing"
	case policy == "refresh", policy == "daily", policy == "weekly", strings.HasPrefix(policy, "every_"):
		// compose pulls these when the local image is older than the
		// period; devenv checks the registry on every up instead (a pull
		// of an unchanged image recreates nothing).
		return "always"
	}
	return policy
}

// planPulls pulls each image once: when --pull or the service's policy says
// always, or when it is missing and may be pulled.
func planPulls(d *Desired, o *Observed, opts PlanOptions) ([]Step, error) {
	var steps []Step
	pulled := map[string]bool{}
	// Images one of the services builds are never pulled, whichever
	// service names them first.
	buildable := map[string]bool{}
	for _, name := range opts.Services {
		if ds := d.Services[name]; ds.Build != nil {
			buildable[engine.NormalizeRef(ds.Spec.Image)] = true
		}
	}
	for _, name := range opts.Services {
		ds := d.Services[name]
		ref := engine.NormalizeRef(ds.Spec.Image)
		if ds.Build != nil || buildable[ref] {
			// Built, never pulled (an image-only service sharing it waits
			// for the build): when missing, when asked (--build), or on
			// every up under pull_policy build (unless --pull never);
			// each image once.
			_, have := o.Images[ref]
			policy := opts.Pull
			if policy == "" {
				policy = ds.PullPolicy
			}
			switch {
			case ds.Build == nil || pulled[ref]:
			case opts.Build == "never" && !have:
				return nil, &compose.ConfigError{Key: "services." + name + ".build", Msg: fmt.Sprintf("image %s is not present and --no-build keeps devenv from building it", ds.Spec.Image)}
			case opts.Build == "never":
			case opts.Build == "always":
				steps = append(steps, Step{Action: ActBuild, Service: name, Name: ds.Spec.Image, Reason: "--build"})
				pulled[ref] = true
			case policy == "build" && !(opts.Pull == "never" && have):
				steps = append(steps, Step{Action: ActBuild, Service: name, Name: ds.Spec.Image, Reason: "pull_policy build"})
				pulled[ref] = true
			case !have:
				steps = append(steps, Step{Action: ActBuild, Service: name, Name: ds.Spec.Image, Reason: "not present"})
				pulled[ref] = true
			}
			continue
		}
		policy := pullPolicy(opts.Pull, ds.PullPolicy)
		_, have := o.Images[ref]
		switch {
		case pulled[ref]:
		case policy == "always":
			steps = append(steps, Step{Action: ActPull, Service: name, Name: ds.Spec.Image, Reason: "pull policy always"})
			pulled[ref] = true
		case !have && policy == "never":
			return nil, &compose.ConfigError{Key: "services." + name + ".image", Msg: fmt.Sprintf("image %s is not present and the pull policy is never", ds.Spec.Image)}
		case !have:
			steps = append(steps, Step{Action: ActPull, Service: name, Name: ds.Spec.Image, Reason: "not present"})
			pulled[ref] = true
		}
	}
	return steps, nil
}

// PlanService decides what happens to one service's container, and removes
// what an interrupted recreate left behind.
func PlanService(ds *DesiredService, o *Observed, force, noRecreate bool) ([]Step, error) {
	name := ds.Name
	c, ok := o.serviceContainer(name, ds.Spec.Name)
	if !ok {
		if f, clash := o.Foreign[ds.Spec.Name]; clash {
			return nil, &ForeignError{Name: ds.Spec.Name, Service: name, Project: f.Labels[LabelProject]}
		}
		return []Step{{Action: ActCreate, Service: name, Name: ds.Spec.Name, Reason: "new"}}, nil
	}
	var steps []Step
	for _, other := range o.Containers {
		if other.Labels[LabelService] == name && other.ID != c.ID && other.Labels[LabelOneoff] != "True" {
			oc := other
			steps = append(steps, Step{Action: ActRemoveLeftover, Service: name, Name: other.Name, Reason: "left by an interrupted recreate", Existing: &oc})
		}
	}
	cc := c
	reason := recreateReason(ds, c, o, force)
	kept := ""
	if noRecreate && reason != "" {
		if !SameBindings(ds.Spec.Ports, c.Ports) {
			// Kept, it would hold other ports than the registry assigns.
			return nil, &compose.ConfigError{Key: "services." + name + ".ports",
				Msg: fmt.Sprintf("--no-recreate would keep %s on other ports than the registry assigns it; run up without --no-recreate", c.Name)}
		}
		reason, kept = "", "kept (--no-recreate): "+reason
	}
	switch {
	case reason != "":
		steps = append(steps, Step{Action: ActRecreate, Service: name, Name: ds.Spec.Name, Reason: reason, Existing: &cc})
	case c.State != "running":
		steps = append(steps, Step{Action: ActStart, Service: name, Name: c.Name, Reason: strings.TrimPrefix(kept+"; ", "; ") + c.State, Existing: &cc})
	case kept != "":
		steps = append(steps, Step{Action: ActKeep, Service: name, Name: c.Name, Reason: kept, Existing: &cc})
	default:
		steps = append(steps, Step{Action: ActKeep, Service: name, Name: c.Name, Reason: "up to date", Existing: &cc})
	}
	return steps, nil
}

// NoStartStep shapes a step for compose's create: containers are created or
// recreated but not started, and stopped ones stay stopped.
func NoStartStep(s Step, on bool) Step {
	if !on {
		return s
	}
	switch s.Action {
	case ActCreate, ActRecreate:
		s.NoStart = true
		s.Reason += "; not started"
	case ActStart:
		s.Action, s.Reason = ActKeep, "stopped; create does not start it"
	}
	return s
}

// planRestarts turns a kept service into a restart when a dependency it
// declares with restart: true is created, recreated or started.
func planRestarts(d *Desired, p *Plan) {
	for i, s := range p.Steps {
		if s.Action != ActKeep {
			continue
		}
		ds := d.Services[s.Service]
		for _, dep := range sortedKeys(ds.DependsOn) {
			if !ds.DependsOn[dep].Restart {
				continue
			}
			if ds2, ok := p.Step(dep); ok && (ds2.Action == ActRecreate || ds2.Action == ActStart || ds2.Action == ActCreate) {
				done := map[Action]string{ActCreate: "created", ActRecreate: "recreated", ActStart: "started"}[ds2.Action]
				p.Steps[i].Action, p.Steps[i].Reason = ActRestart, "dependency "+dep+" will be "+done
				break
			}
		}
	}
}

// ForeignError is a container name already taken by a container that is not
// this project's; devenv leaves it alone.
type ForeignError struct {
	Name, Service, Project string
}

func (e *ForeignError) Error() string {
	owner := "has no compose labels"
	if e.Project != "" {
		owner = "belongs to compose project " + e.Project
	}
	return fmt.Sprintf("service %s: container name %q is taken by a container that %s; devenv leaves it alone: remove or rename it, or change container_name", e.Service, e.Name, owner)
}

func (e *ForeignError) Unwrap() error { return errdefs.ErrInvalid }

// desiredGraph is the desired services and their depends_on.
func desiredGraph(d *Desired) *graph.Graph {
	return graph.New(slices.Collect(maps.Keys(d.Services)), func(s string) []string {
		return slices.Collect(maps.Keys(d.Services[s].DependsOn))
	})
}
