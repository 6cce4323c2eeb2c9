package plan

import (
	"maps"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/graph"
)

// StartOrder sorts services so that dependencies come first, those
// outside the model too (an optional dependency behind an inactive
// profile that has a container).
func StartOrder(p *compose.Project, services []string) []string {
	nodes := slices.Concat(services, slices.Collect(maps.Keys(p.Model.Services)))
	return graph.New(nodes, modelDeps(p)).Order(services)
}

// ServiceGraph is the compose services and their depends_on among them.
func ServiceGraph(p *compose.Project) *graph.Graph {
	return graph.New(slices.Collect(maps.Keys(p.Model.Services)), modelDeps(p))
}

// modelDeps is a service's depends_on, as the model declares it.
func modelDeps(p *compose.Project) func(string) []string {
	return func(s string) []string { return slices.Collect(maps.Keys(p.Model.Services[s].DependsOn)) }
}

// HostOrder sorts host services so that host dependencies come first.
func HostOrder(p *compose.Project, names []string) []string {
	return HostGraph(p).Order(names)
}

// ManagedHosts are the host services devenv runs, of those named (all
// active ones when none are; naming one enables its profiles, as compose
// does for a service).
func ManagedHosts(p *compose.Project, named []string) []string {
	var out []string
	for _, n := range sortedKeys(p.X.Host) {
		if !p.X.Host[n].Managed() {
			continue
		}
		if (len(named) == 0 && p.HostActive(n)) || slices.Contains(named, n) {
			out = append(out, n)
		}
	}
	return out
}

// SplitServices separates host services from compose services among names.
func SplitServices(p *compose.Project, names []string) (containers, hosts []string) {
	for _, n := range names {
		if _, ok := p.X.Host[n]; ok {
			hosts = append(hosts, n)
		} else {
			containers = append(containers, n)
		}
	}
	return containers, hosts
}

// HostDeps are the compose services the hosts depend on, through other
// host services too.
func HostDeps(p *compose.Project, hosts []string) (containers, moreHosts []string) {
	for _, n := range HostGraph(p).Closure(hosts) {
		switch _, host := p.X.Host[n]; {
		case !host:
			containers = append(containers, n)
		case !slices.Contains(hosts, n):
			moreHosts = append(moreHosts, n)
		}
	}
	return containers, moreHosts
}

// HostGraph is the host services and their depends_on, which may name
// compose services too (those are leaves here: their own dependencies
// are the compose graph's).
func HostGraph(p *compose.Project) *graph.Graph {
	nodes := slices.Collect(maps.Keys(p.X.Host))
	for _, h := range p.X.Host {
		nodes = append(nodes, slices.Collect(maps.Keys(h.DependsOn))...)
	}
	return graph.New(nodes, func(n string) []string { return slices.Collect(maps.Keys(p.X.Host[n].DependsOn)) })
}

func HostNeededHealthy(p *compose.Project, name string, hosts []string) bool {
	for _, h := range hosts {
		if p.X.Host[h].DependsOn[name] == "service_healthy" {
			return true
		}
	}
	return false
}

// IsLeftover recognises the name recreate gives the old container while it
// swaps in the new one: 12 hex digits, an underscore, the name.
func IsLeftover(c Container) bool {
	prefix, _, ok := strings.Cut(c.Name, "_")
	return ok && len(prefix) == 12 && strings.HasPrefix(c.ID, prefix)
}

// Dependents maps each service to the services that depend on it: the
// model's depends_on for the services the file declares, the containers'
// depends_on labels for the others (compose-made containers, -p NAME).
// Edges that would close a cycle are dropped, so stopping never deadlocks.
func Dependents(p *compose.Project, cs []Container) map[string][]string {
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
