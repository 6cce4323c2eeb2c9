package orchestrator

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/graph"
)

// StopOptions are the flags of `stop` and `restart`.
type StopOptions struct {
	Services []string
	Timeout  *time.Duration
}

// Stop stops the selected services' containers, keeping them.
func (o *Orchestrator) Stop(ctx context.Context, p *compose.Project, opts StopOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	plan, err := o.PlanStop(ctx, p, opts)
	if err != nil {
		return err
	}
	return o.execute(ctx, p, plan)
}

// PlanStop is stop's plan: host services first (dependents first), the
// remote engine's forward when the whole project stops, then the running
// containers, each after those that depend on it.
func (o *Orchestrator) PlanStop(ctx context.Context, p *compose.Project, opts StopOptions) (*Plan, error) {
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Project: p.Name()}
	after := o.planHostStops(plan, p, o.hostsToStop(p, hosts))
	if len(opts.Services) == 0 && !o.reach().onThisMachine() {
		after = []int{plan.add(Step{Action: ActStopForward, Name: p.Name(), After: after})}
	}
	o.planStops(plan, p, containers, opts.Timeout, after)
	return plan, nil
}

// dependents maps each service to the services that depend on it: the
// model's depends_on for the services the file declares, the containers'
// depends_on labels for the others (compose-made containers, -p NAME).
// Edges that would close a cycle are dropped, so stopping never deadlocks.
func dependents(p *compose.Project, cs []Container) map[string][]string {
	deps := map[string][]string{} // service -> what it depends on
	for name, svc := range p.Model.Services {
		deps[name] = sortedKeys(svc.DependsOn)
	}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		if _, inModel := p.Model.Services[svc]; inModel {
			continue
		}
		for _, part := range strings.Split(c.Labels[LabelDependsOn], ",") {
			if dep, _, _ := strings.Cut(part, ":"); dep != "" && !slices.Contains(deps[svc], dep) {
				deps[svc] = append(deps[svc], dep)
			}
		}
	}
	// Every name is a node: a leaf known only from a label (or behind an
	// inactive profile) still waits for what depends on it.
	nodes := slices.Collect(maps.Keys(deps))
	for _, ds := range deps {
		nodes = append(nodes, ds...)
	}
	return graph.New(nodes, func(s string) []string { return deps[s] }).Dependents()
}

func (o *Orchestrator) stopSettings(p *compose.Project, svc string, timeout *time.Duration) (time.Duration, string) {
	wait, signal := 10*time.Second, ""
	if s, ok := p.Model.Services[svc]; ok {
		if s.StopGracePeriod != nil {
			wait = time.Duration(*s.StopGracePeriod)
		}
		signal = s.StopSignal
	}
	if timeout != nil {
		wait = *timeout
	}
	return wait, signal
}
