package orchestrator

import (
	"context"
	"slices"

	"github.com/devenv-dev/devenv/compose"
)

// selectLifecycle is the containers and the host services (with a command)
// a stop, start or restart acts on: all when none are named.
func (o *Orchestrator) selectLifecycle(ctx context.Context, p *compose.Project, services []string) ([]Container, []string, error) {
	named, namedHosts := splitServices(p, services)
	hosts := managedHosts(p, namedHosts)
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

// startOrder sorts services so that dependencies come first.
func startOrder(p *compose.Project, services []string) []string {
	return dependencyOrder(services, func(s string) []string {
		if svc, ok := p.Model.Services[s]; ok {
			return sortedKeys(svc.DependsOn)
		}
		return nil
	})
}

// dependencyOrder sorts names so that each comes after those of its deps
// that are among names.
func dependencyOrder(names []string, deps func(string) []string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		for _, dep := range deps(s) {
			if slices.Contains(names, dep) {
				visit(dep)
			}
		}
		out = append(out, s)
	}
	for _, s := range names {
		visit(s)
	}
	return out
}
