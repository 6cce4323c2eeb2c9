package orchestrator

import (
	"context"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

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
	return plan.ServiceGraph(p).Closure(names)
}
