package compose

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Name is a stable HTTPS name of a service: the proxy routes Host to the
// host port the registry assigns the service's Target (a container port,
// or a host service's own port).
type Name struct {
	Host    string `json:"host"`
	Service string `json:"service"`
	Target  int    `json:"target"`
}

// httpRoles are the roles that speak HTTP.
var httpRoles = []string{"phoenix", "vite", "electric"}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Label is s made a DNS label: lower case, '_' and '.' as '-'.
func Label(s string) string {
	return strings.Trim(strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(s)), "-")
}

// Names are the project's stable names, sorted by host: each HTTP service
// (a host service with a port; a container with an HTTP role, an http://
// health or x-devenv.http: true, and a published TCP port) gets
// SERVICE.PROJECT.localhost, or its x-devenv.hostname, and the main service
// (x-devenv.main, else the vite-role service, else the first host service)
// also PROJECT.localhost. None with x-devenv.proxy: false.
func (p *Project) Names() ([]Name, error) {
	if p.X.Proxy != nil && !*p.X.Proxy {
		return nil, nil
	}
	project := Label(p.Name())
	var out []Name
	add := func(service, hostname string, target int) error {
		host := Label(service) + "." + project + ".localhost"
		if hostname != "" {
			host = strings.ToLower(strings.TrimSuffix(hostname, "."))
			if host == DashboardName {
				return &ConfigError{File: p.MainFile(), Key: p.hostnameKey(service),
					Msg: fmt.Sprintf("hostname %q is devenv ui's own: choose another (such as %s.%s.localhost)", hostname, Label(service), project)}
			}
			if !ValidLocalhostName(host) {
				return &ConfigError{File: p.MainFile(), Key: p.hostnameKey(service),
					Msg: fmt.Sprintf("hostname %q: use a DNS name under .localhost (such as api.%s.localhost)", hostname, project)}
			}
		}
		out = append(out, Name{Host: host, Service: service, Target: target})
		return nil
	}
	var hosts []string
	vite := ""
	for _, name := range sortedKeys(p.X.Host) {
		if h := p.X.Host[name]; h.Port > 0 {
			if err := add(name, h.Hostname, h.Port); err != nil {
				return nil, err
			}
			hosts = append(hosts, name)
			if (h.Role == "vite" || (h.Role == "" && Role("", "", name) == "vite")) && vite == "" {
				vite = name
			}
		}
	}
	for _, name := range p.Model.ServiceNames() {
		svc, sx := p.Model.Services[name], p.ServiceX[name]
		role := Role(sx.Role, svc.Image, name)
		http := slices.Contains(httpRoles, role) || strings.HasPrefix(sx.Health, "http://")
		if sx.HTTP != nil {
			http = *sx.HTTP
		}
		if !http {
			continue
		}
		for _, pc := range svc.Ports {
			if pc.Protocol == "" || pc.Protocol == "tcp" {
				if err := add(name, sx.Hostname, int(pc.Target)); err != nil {
					return nil, err
				}
				if role == "vite" && vite == "" {
					vite = name
				}
				break
			}
		}
	}
	out, err := p.withMainName(out, project, vite, hosts)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Name) int { return strings.Compare(a.Host, b.Host) })
	for i := 1; i < len(out); i++ {
		if out[i].Host == out[i-1].Host {
			return nil, &ConfigError{File: p.MainFile(), Key: p.hostnameKey(out[i].Service),
				Msg: fmt.Sprintf("the name %s is given to both %s and %s; change one's x-devenv.hostname", out[i].Host, out[i-1].Service, out[i].Service)}
		}
	}
	return out, nil
}

func (p *Project) hostnameKey(service string) string {
	if _, ok := p.X.Host[service]; ok {
		return ExtensionKey + ".host." + service + ".hostname"
	}
	return "services." + service + "." + ExtensionKey + ".hostname"
}

// ValidLocalhostName says whether host is a DNS name under .localhost.
func ValidLocalhostName(host string) bool {
	labels := strings.Split(host, ".")
	if len(host) > 253 || len(labels) < 2 || labels[len(labels)-1] != "localhost" {
		return false
	}
	for _, l := range labels {
		if !dnsLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// NameOf is the service's own name among names (SERVICE.PROJECT.localhost
// or its hostname, rather than PROJECT.localhost); "" when it has none.
func NameOf(names []Name, service string) string {
	found := ""
	for _, n := range names {
		if n.Service == service && (found == "" || strings.Count(n.Host, ".") > strings.Count(found, ".")) {
			found = n.Host
		}
	}
	return found
}

// withMainName adds PROJECT.localhost for the main service:
// x-devenv.main, else the vite-role service, else the first host service.
// A project named devenv keeps its services' names only: devenv.localhost
// is the dashboard's.
func (p *Project) withMainName(out []Name, project, vite string, hosts []string) ([]Name, error) {
	main := p.X.Main
	switch {
	case main != "":
		if !slices.ContainsFunc(out, func(n Name) bool { return n.Service == main }) {
			return nil, &ConfigError{File: p.MainFile(), Key: ExtensionKey + ".main",
				Msg: fmt.Sprintf("main service %q has no name: name an HTTP service with a published port or a host service with a port", main)}
		}
	case vite != "":
		main = vite
	case len(hosts) > 0:
		main = hosts[0]
	}
	if i := slices.IndexFunc(out, func(n Name) bool { return n.Service == main }); i >= 0 && project+".localhost" != DashboardName {
		out = append(out, Name{Host: project + ".localhost", Service: main, Target: out[i].Target})
	}
	return out, nil
}

// DashboardName is devenv ui's name on the proxy: no project's name.
const DashboardName = "devenv.localhost"
