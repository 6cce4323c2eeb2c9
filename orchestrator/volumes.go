package orchestrator

import (
	"context"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/suggest"
)

// ProjectVolumes lists the volumes labelled for the project; with
// services, only those their containers mount.
func (o *Orchestrator) ProjectVolumes(ctx context.Context, p *compose.Project, services []string) ([]Volume, error) {
	vols, err := o.Engine.Volumes(ctx, []string{LabelProject + "=" + p.Name()})
	if err != nil || len(services) == 0 {
		return vols, err
	}
	used := map[string]bool{}
	for _, name := range services {
		svc, ok := p.Model.Services[name]
		if !ok {
			return nil, &compose.UnknownServiceError{Service: name, File: p.MainFile(), Suggestion: suggest.Closest(name, p.AllServiceNames())}
		}
		for _, v := range svc.Volumes {
			if vol, ok := p.Model.Volumes[v.Source]; ok {
				used[vol.Name] = true
			}
		}
	}
	var out []Volume
	for _, v := range vols {
		if used[v.Name] {
			out = append(out, v)
		}
	}
	return out, nil
}
