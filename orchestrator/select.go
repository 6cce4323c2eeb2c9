package orchestrator

import (
	"context"
	"slices"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// selectLifecycle is the containers and the host services (with a command)
// a stop, start or restart acts on: all when none are named.
func (o *Orchestrator) selectLifecycle(ctx context.Context, p *compose.Project, services []string) ([]Container, []string, error) {
	named, namedHosts := plan.SplitServices(p, services)
	hosts := plan.ManagedHosts(p, namedHosts)
	if len(services) > 0 && len(namedHosts) == 0 {
		hosts = []string{}
	}
	if len(services) > 0 && len(named) == 0 {
		return nil, hosts, o.checkHostsSameDir(p)
	}
	cs, err := o.selectContainers(ctx, p, named)
	return cs, hosts, err
}

func (o *Orchestrator) selectContainers(ctx context.Context, p *compose.Project, services []string) ([]Container, error) {
	sel, err := p.SelectServices(services)
	if err != nil {
		return nil, err
	}
	obs, err := Observe(ctx, o.Engine, p.Name(), false)
	if err != nil {
		return nil, err
	}
	if err := o.checkSameDir(p, obs.Containers); err != nil {
		return nil, err
	}
	var out []Container
	for _, c := range obs.Containers {
		if slices.Contains(sel, c.Labels[LabelService]) || (len(p.Files) == 0 && len(services) == 0) {
			out = append(out, c)
		}
	}
	return out, nil
}
