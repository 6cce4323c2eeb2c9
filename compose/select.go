package compose

import (
	"context"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devenv-dev/devenv/internal/suggest"
)

// Enable activates the profiles of the named services that are behind an
// inactive profile, as docker compose does for services named on its
// command line (up SERVICE, run SERVICE). The project is loaded again with
// those profiles, so the networks and volumes only they use are there too.
func (p *Project) Enable(ctx context.Context, names []string) error {
	profiles := []string{}
	for _, n := range names {
		if svc, ok := p.Model.DisabledServices[n]; ok {
			profiles = append(profiles, svc.Profiles...)
		}
	}
	if len(profiles) == 0 || p.loaded == nil {
		return nil
	}
	o := *p.loaded
	o.Profiles = append(append(append([]string(nil), p.Model.Profiles...), o.Profiles...), profiles...)
	q, err := Load(ctx, o)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// SelectServices checks that every named service exists (enabled or behind an
// inactive profile) and returns them; none named means all enabled services.
func (p *Project) SelectServices(names []string) ([]string, error) {
	if len(names) == 0 {
		return p.Model.ServiceNames(), nil
	}
	if len(p.Files) == 0 {
		return names, nil // no file: the engine's labels are all we know
	}
	for _, n := range names {
		if _, ok := p.Model.Services[n]; ok {
			continue
		}
		if _, ok := p.Model.DisabledServices[n]; ok {
			return nil, &ConfigError{File: p.MainFile(), Key: "services." + n, Msg: "service is in a profile that is not active (use --profile)"}
		}
		return nil, &UnknownServiceError{Service: n, File: p.MainFile(), Suggestion: suggest.Closest(n, p.AllServiceNames())}
	}
	return names, nil
}

// CheckNames refuses a name that is neither a compose service nor a host
// service, as SelectServices does (naming the file, with a suggestion).
func (p *Project) CheckNames(names []string) error {
	var services []string
	for _, n := range names {
		if _, host := p.X.Host[n]; !host {
			services = append(services, n)
		}
	}
	if len(services) == 0 {
		return nil
	}
	_, err := p.SelectServices(services)
	return err
}

// Only is the project narrowed to the named services and what they depend
// on, as compose's config SERVICE... prints it (host services named keep
// the x-devenv block as it is). An unknown name is an UnknownServiceError.
func (p *Project) Only(names []string) (*Project, error) {
	var services []string
	for _, n := range names {
		if _, host := p.X.Host[n]; !host {
			services = append(services, n)
		}
	}
	for _, n := range services {
		if !p.Declares(n) {
			return nil, &UnknownServiceError{Service: n, File: p.MainFile(), Suggestion: suggest.Closest(n, p.AllServiceNames())}
		}
	}
	if len(services) == 0 {
		// Host services only: no compose service of the model.
		q := *p
		m := *p.Model
		m.Services = types.Services{}
		m.DisabledServices = types.Services{}
		q.Model = m.WithoutUnnecessaryResources()
		return &q, nil
	}
	// Naming a service behind a profile enables it, as compose does.
	enabled, err := p.Model.WithServicesEnabled(services...)
	if err != nil {
		return nil, err
	}
	m, err := enabled.WithSelectedServices(services)
	if err != nil {
		return nil, &ConfigError{File: p.MainFile(), Msg: err.Error(), Err: err}
	}
	q := *p
	q.Model = m.WithoutUnnecessaryResources()
	return &q, nil
}

// AllServiceNames are the names the project declares: compose services,
// enabled or not, and host services.
func (p *Project) AllServiceNames() []string {
	names := p.Model.ServiceNames()
	for n := range p.Model.DisabledServices {
		names = append(names, n)
	}
	for n := range p.X.Host {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
