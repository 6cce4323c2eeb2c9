package compose

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// PortRequest is one host port a project asks for: a published port of a
// compose service, or a host service from x-devenv.
type PortRequest struct {
	Service  string
	Role     string
	Target   int    // container port; for host services equal to Port
	HostIP   string // as written; "" means devenv chooses by the publish setting
	Port     int    // requested host port; 0 = none, the engine picks one
	PortEnd  int    // last port of a published range, else 0
	Protocol string
	Host     bool // a host service
	// Managed is a host service devenv runs (it has a command): a process
	// on its port is a stranger, and the request moves past it like a
	// container's; an unmanaged host service's process is the developer's.
	Managed bool
	// AllInterfaces is true when the user opted into binding 0.0.0.0.
	AllInterfaces bool
	Index         int // position in the service's ports list
}

// PortRequests lists every request of the project, sorted by service then
// target. Two requests for one host port and protocol are a configuration
// error.
func (p *Project) PortRequests() ([]PortRequest, error) {
	var out []PortRequest
	file := p.MainFile()
	for _, name := range p.Model.ServiceNames() {
		svc := p.Model.Services[name]
		sx := p.ServiceX[name]
		role := Role(sx.Role, svc.Image, name)
		all := p.X.Publish == "all" || sx.Publish == "all"
		if sx.Publish == "localhost" {
			all = false
		}
		for i, pc := range svc.Ports {
			key := fmt.Sprintf("services.%s.ports[%d]", name, i)
			proto := pc.Protocol
			if proto == "" {
				proto = "tcp"
			}
			if proto != "tcp" && proto != "udp" && proto != "sctp" {
				return nil, &ConfigError{File: file, Key: key, Msg: fmt.Sprintf("protocol %q is not tcp, udp or sctp", proto)}
			}
			if pc.Target < 1 || pc.Target > 65535 {
				return nil, &ConfigError{File: file, Key: key, Msg: fmt.Sprintf("container port %d is out of range 1-65535", pc.Target)}
			}
			lo, hi, err := ParsePublished(pc.Published)
			if err != nil {
				return nil, &ConfigError{File: file, Key: key, Msg: err.Error()}
			}
			out = append(out, PortRequest{
				Service: name, Role: role, Target: int(pc.Target), HostIP: pc.HostIP,
				Port: lo, PortEnd: hi, Protocol: proto, AllInterfaces: all, Index: i,
			})
		}
	}
	for _, name := range sortedKeys(p.X.Host) {
		h := p.X.Host[name]
		role := h.Role
		if role == "" {
			role = Role("", "", name)
		}
		out = append(out, PortRequest{Service: name, Role: role, Target: h.Port, Port: h.Port, Protocol: "tcp", Host: true, Managed: h.Managed()})
	}
	if err := checkDuplicates(file, out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Index < out[j].Index
	})
	return out, nil
}

// checkDuplicates refuses two requests for one host port and protocol on
// addresses that overlap (equal, or either unspecified); the same port on
// 127.0.0.1 and ::1 is two bindings, as the engine sees it.
func checkDuplicates(file string, reqs []PortRequest) error {
	type use struct{ ip, service string }
	seen := map[string][]use{}
	wild := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	for _, r := range reqs {
		if r.Port == 0 {
			continue
		}
		end := max(r.Port, r.PortEnd)
		for port := r.Port; port <= end; port++ {
			k := fmt.Sprintf("%d/%s", port, r.Protocol)
			for _, u := range seen[k] {
				if u.ip == r.HostIP || wild(u.ip) || wild(r.HostIP) {
					return &ConfigError{File: file, Key: "services." + r.Service + ".ports",
						Msg: fmt.Sprintf("host port %d/%s is published twice (also by %s)", port, r.Protocol, u.service)}
				}
			}
			seen[k] = append(seen[k], use{r.HostIP, r.Service})
		}
	}
	return nil
}

// ParsePublished parses a published port: "" (none), "5432", or "8000-8010".
func ParsePublished(s string) (lo, hi int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	lo, err = parsePort(a)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, 0, nil
	}
	hi, err = parsePort(b)
	if err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("port range %q ends before it starts", s)
	}
	if hi == lo {
		hi = 0
	}
	return lo, hi, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("published port %q is not a number", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("published port %d is out of range 1-65535", n)
	}
	return n, nil
}

// imageRoles maps an image's repository name (last path element) to a role.
var imageRoles = map[string]string{
	"postgres": "postgres", "postgis": "postgres", "timescaledb": "postgres", "pgvector": "postgres",
	"redis": "redis", "valkey": "redis", "redis-stack": "redis", "keydb": "redis",
	"electric": "electric",
	"mysql":    "mysql", "mariadb": "mysql",
	"mongo": "mongo", "mongodb": "mongo",
	"rabbitmq": "rabbitmq", "memcached": "memcached", "minio": "minio",
	"elasticsearch": "elasticsearch", "opensearch": "elasticsearch",
	"mailhog": "mail", "mailpit": "mail",
}

// nameRoles maps common service names to roles when the image says nothing.
var nameRoles = map[string]string{
	"db": "postgres", "database": "postgres", "pg": "postgres", "postgresql": "postgres",
	"backend": "phoenix", "phoenix": "phoenix", "api": "phoenix", "web": "phoenix",
	"frontend": "vite", "vite": "vite", "sveltekit": "vite", "ui": "vite",
	"cache": "redis",
}

// Role picks a port's role: x-devenv's explicit role, else the image, else the
// service name.
func Role(explicit, image, service string) string {
	if explicit != "" {
		return explicit
	}
	if image != "" {
		ref := image
		if i := strings.Index(ref, "@"); i >= 0 {
			ref = ref[:i]
		}
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			ref = ref[:i]
		}
		base := path.Base(ref)
		if r, ok := imageRoles[base]; ok {
			return r
		}
		for prefix, r := range imageRoles {
			if strings.HasPrefix(base, prefix+"-") {
				return r
			}
		}
	}
	if r, ok := nameRoles[service]; ok {
		return r
	}
	if r, ok := imageRoles[service]; ok {
		return r
	}
	return service
}

// Expand replaces {service} and {service:TARGET} in text using lookup, which
// returns the host port assigned to a service's target (target 0 = its first
// published port).
func Expand(text string, lookup func(service string, target int) (int, bool)) (string, error) {
	return Placeholders{Port: lookup}.Expand(text)
}

// Placeholders answer a template's placeholders: {service} and
// {service:TARGET} by Port, {service.url} and {service.host} by Name.
type Placeholders struct {
	Port func(service string, target int) (int, bool)
	// Name is a service's own name (SERVICE.PROJECT.localhost), "" when it
	// has none; URL makes its URL (nil: https://NAME).
	Name func(service string) string
	URL  func(host string) string
}

// Expand replaces the placeholders in text.
func (ph Placeholders) Expand(text string) (string, error) {
	var firstErr error
	fail := func(format string, a ...any) {
		if firstErr == nil {
			firstErr = fmt.Errorf(format, a...)
		}
	}
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		target := 0
		if sub[2] != "" {
			n, err := strconv.Atoi(sub[2])
			if err != nil {
				fail("placeholder %s: %q is not a port number", m, sub[2])
				return m
			}
			target = n
		}
		if port, ok := ph.Port(sub[1], target); ok {
			return strconv.Itoa(port)
		}
		if service, what, ok := cutLast(sub[1]); ok && sub[2] == "" {
			host := ""
			if ph.Name != nil {
				host = ph.Name(service)
			}
			if host == "" {
				fail("placeholder %s: %s has no name (only HTTP services get https://SERVICE.PROJECT.localhost; databases keep plain ports, and x-devenv.proxy: false turns names off)", m, service)
				return m
			}
			if what == "host" {
				return host
			}
			if ph.URL != nil {
				return ph.URL(host)
			}
			return "https://" + host
		}
		fail("placeholder %s: no port assigned", m)
		return m
	})
	return out, firstErr
}

// cutLast splits "backend.url" into backend and url (or host).
func cutLast(s string) (service, what string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || (s[i+1:] != "url" && s[i+1:] != "host") {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}
