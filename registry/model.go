package registry

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/internal/errdefs"
)

// Version is the newest file format this devenv reads and writes. Version
// 2 added each reservation's requested port and ports-list index; a
// version 1 file is read and written back as version 2, so an older devenv
// says "upgrade" instead of choking on the new keys.
const Version = 2

// Registry is the whole file.
type Registry struct {
	Version int `yaml:"version" json:"version"`
	// Publish "all" binds ports without a host IP on all interfaces for
	// every project (default: 127.0.0.1).
	Publish  string          `yaml:"publish,omitempty" json:"publish,omitempty"`
	Rules    map[string]Rule `yaml:"rules,omitempty" json:"rules,omitempty"`
	Projects []*Project      `yaml:"projects,omitempty" json:"projects,omitempty"`
}

// Rule says where a role's ports are allocated from.
type Rule struct {
	Start int `yaml:"start" json:"start"`
	End   int `yaml:"end,omitempty" json:"end,omitempty"` // inclusive; 0 means Start+999
	// Description is shown in docs and `ports` output only.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// Last is the rule's last usable port.
func (r Rule) Last() int {
	if r.End > 0 {
		return r.End
	}
	if r.Start+999 > 65535 {
		return 65535
	}
	return r.Start + 999
}

// Project is one compose project (or host-only project) with its ports.
type Project struct {
	Name string `yaml:"name" json:"name"`
	Dir  string `yaml:"directory" json:"directory"`
	// Engine is a remote engine's ID (from its /info); "" is this
	// machine's engine. Endpoint is where it was last reached, for display.
	// Files written before devenv keyed by ID hold the endpoint in Engine.
	Engine       string        `yaml:"engine,omitempty" json:"engine,omitempty"`
	Endpoint     string        `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	Stack        string        `yaml:"stack,omitempty" json:"stack,omitempty"`
	Reservations []Reservation `yaml:"reservations,omitempty" json:"reservations,omitempty"`
	// Instance is set for an instance of another project (a worktree):
	// its name, with Dir the instance's own directory.
	Instance string `yaml:"instance,omitempty" json:"instance,omitempty"`
	// Names are the project's HTTPS names: the proxy routes each to the
	// port its service's reservation for Target holds, for as long as the
	// reservation stays.
	Names []Name `yaml:"names,omitempty" json:"names,omitempty"`
}

// ProxyProject is where devenv's proxy keeps its ports: an entry no
// compose project can have (compose names have no dot), left out of ls.
const ProxyProject = "devenv.proxy"

// UIProject is where devenv ui's own server keeps its port, where names
// are off.
const UIProject = "devenv.ui"

// Own says whether an entry is devenv's own (the proxy's, the
// dashboard's), not a project's: such names have a dot, which no compose
// project name has.
func Own(name string) bool { return strings.HasPrefix(name, "devenv.") }

// Name is a stable name of a project's service (SERVICE.PROJECT.localhost).
type Name struct {
	Host    string `yaml:"host" json:"host"`
	Service string `yaml:"service" json:"service"`
	Target  int    `yaml:"target" json:"target"`
}

// ProxyPort is the names proxy's HTTPS port (0 before it first ran).
func (r *Registry) ProxyPort() int {
	if p := r.Find(ProxyProject, ""); p != nil {
		return p.HostPort("https", 0)
	}
	return 0
}

// NameURL is the URL of a name served on the proxy's port (no port when
// it is 443, or unknown).
func NameURL(host string, proxyPort int) string {
	if proxyPort == 0 || proxyPort == 443 {
		return "https://" + host
	}
	return "https://" + host + ":" + strconv.Itoa(proxyPort)
}

// URLs are each service's URLs, its own name first (SERVICE.PROJECT.localhost
// before PROJECT.localhost); nil for a nil project, and before the proxy
// first ran (proxyPort 0): no name answers yet.
func (p *Project) URLs(proxyPort int) map[string][]string {
	if p == nil || len(p.Names) == 0 || proxyPort == 0 {
		return nil
	}
	out := map[string][]string{}
	for _, n := range p.Names {
		u := NameURL(n.Host, proxyPort)
		if strings.Count(n.Host, ".") > 1 {
			out[n.Service] = append([]string{u}, out[n.Service]...)
		} else {
			out[n.Service] = append(out[n.Service], u)
		}
	}
	return out
}

// MainURL is the project's own name's URL (PROJECT.localhost), else its
// first name's; "" when it has none (or the proxy never ran).
func (p *Project) MainURL(proxyPort int) string {
	if p == nil || len(p.Names) == 0 || proxyPort == 0 {
		return ""
	}
	for _, n := range p.Names {
		if strings.Count(n.Host, ".") == 1 {
			return NameURL(n.Host, proxyPort)
		}
	}
	return NameURL(p.Names[0].Host, proxyPort)
}

// Route is where a name leads now: the reservation's port, on this
// machine's loopback; ok is false when the reservation is gone.
func (p *Project) Route(n Name) (Reservation, bool) {
	for _, r := range p.Reservations {
		if r.Service == n.Service && r.Target == n.Target && r.Protocol == "tcp" {
			return r, true
		}
	}
	return Reservation{}, false
}

// Reservation is one host port owned by a project's service.
type Reservation struct {
	Service string `yaml:"service" json:"service"`
	Role    string `yaml:"role" json:"role"`
	Target  int    `yaml:"target" json:"target"`
	HostIP  string `yaml:"host_ip,omitempty" json:"host_ip,omitempty"`
	Port    int    `yaml:"port" json:"port"`
	// Requested is the host port the file asked for when this was assigned;
	// the assignment is sticky only while the file asks for the same one.
	// 0 in files written before devenv recorded it.
	Requested int    `yaml:"requested,omitempty" json:"requested,omitempty"`
	Index     int    `yaml:"index,omitempty" json:"index,omitempty"` // position in the service's ports list
	Protocol  string `yaml:"protocol" json:"protocol"`
	Host      bool   `yaml:"host_service,omitempty" json:"host_service,omitempty"`
}

// PortKey identifies one published-port request of a project: which
// service, which entry of its ports list, and what it asks for. One
// container port published twice ("8080:80", "8081:80") is two keys.
type PortKey struct {
	Service   string
	Index     int
	HostIP    string
	Requested int
	Target    int
	Protocol  string
}

func (k PortKey) String() string {
	return fmt.Sprintf("%s[%d] %s:%d:%d/%s", k.Service, k.Index, k.HostIP, k.Requested, k.Target, k.Protocol)
}

// sameRequest is k without its position: a line that moved within the
// ports list is still the same request.
func (k PortKey) sameRequest(o PortKey) bool {
	k.Index, o.Index = 0, 0
	return k == o
}

// Key is the request a reservation was made for.
func (r Reservation) Key() PortKey {
	return PortKey{Service: r.Service, Index: r.Index, HostIP: r.HostIP, Requested: r.Requested, Target: r.Target, Protocol: r.Protocol}
}

// DefaultRules are the reference document's allocation rules.
func DefaultRules() map[string]Rule {
	return map[string]Rule{
		"phoenix":  {Start: 4000, Description: "Phoenix backends"},
		"vite":     {Start: 5173, Description: "SvelteKit/Vite frontends"},
		"postgres": {Start: 5434, Description: "PostgreSQL in Docker (avoid the default 5432)"},
		"electric": {Start: 3000, Description: "ElectricSQL"},
		"redis":    {Start: 6380, Description: "Redis (avoid the default 6379)"},
		// devenv's own proxy, where it may not listen on 443 and 80.
		"proxy":      {Start: 1443, Description: "devenv's HTTPS proxy (where 443 is not available)"},
		"proxy-http": {Start: 1080, Description: "devenv's HTTP redirect (where 80 is not available)"},
		// devenv ui's own server, where names are off.
		"ui": {Start: 1880, Description: "devenv's dashboard (where names are off)"},
	}
}

// New returns an empty registry at the current version.
func New() *Registry { return &Registry{Version: Version} }

// Rule returns the rule for role: the file's, else the default; ok is false
// when neither has one.
func (r *Registry) Rule(role string) (Rule, bool) {
	if rule, ok := r.Rules[role]; ok {
		return rule, true
	}
	rule, ok := DefaultRules()[role]
	return rule, ok
}

// Find returns the project named name on engine, or nil.
func (r *Registry) Find(name, engine string) *Project {
	for _, p := range r.Projects {
		if p.Name == name && p.Engine == engine {
			return p
		}
	}
	return nil
}

// Remove drops a project; it reports whether there was one.
func (r *Registry) Remove(name, engine string) bool {
	for i, p := range r.Projects {
		if p.Name == name && p.Engine == engine {
			r.Projects = append(r.Projects[:i], r.Projects[i+1:]...)
			return true
		}
	}
	return false
}

func (r *Registry) sort() {
	sort.Slice(r.Projects, func(i, j int) bool {
		if r.Projects[i].Engine != r.Projects[j].Engine {
			return r.Projects[i].Engine < r.Projects[j].Engine
		}
		return r.Projects[i].Name < r.Projects[j].Name
	})
	for _, p := range r.Projects {
		sortReservations(p)
	}
}

// HostPort is the port reserved for the host service, or declared when
// none is (p may be nil: a project not registered yet).
func (p *Project) HostPort(service string, declared int) int {
	if p == nil {
		return declared
	}
	for _, r := range p.Reservations {
		if r.Service == service && r.Host {
			return r.Port
		}
	}
	return declared
}

// EngineLabel is how a project's engine is shown: "local", else where the
// engine was reached, else its ID.
func (p *Project) EngineLabel() string {
	switch {
	case p.Engine == "":
		return "local"
	case p.Endpoint != "":
		return p.Endpoint
	}
	return p.Engine
}

// RemoteLabel is EngineLabel for a remote engine, "" for this machine's
// (where a holder or a row names no engine).
func (p *Project) RemoteLabel() string {
	if p.Engine == "" {
		return ""
	}
	return p.EngineLabel()
}

// Claim is the project's reservation of service's port as a holder.
func (p *Project) Claim(service string) Holder {
	return Holder{Kind: "project", Project: p.Name, Dir: p.Dir, Service: service, Engine: p.RemoteLabel(), EngineID: p.Engine}
}

// Engines counts the distinct engines the registry's projects are on.
func (r *Registry) Engines() int {
	seen := map[string]bool{}
	for _, p := range r.Projects {
		seen[p.Engine] = true
	}
	return len(seen)
}

// Validate checks the invariants a loaded file must hold.
func (r *Registry) Validate() error {
	if r.Version < 1 {
		return fmt.Errorf("version %d is not valid", r.Version)
	}
	if r.Version > Version {
		return &NewerVersionError{Have: r.Version, Want: Version}
	}
	if r.Publish != "" && r.Publish != "all" && r.Publish != "localhost" {
		return fmt.Errorf("publish: %q is not one of localhost, all", r.Publish)
	}
	for role, rule := range r.Rules {
		if rule.Start < 1 || rule.Start > 65535 || rule.Last() < rule.Start || rule.Last() > 65535 {
			return fmt.Errorf("rules.%s: range %d-%d is not within 1-65535", role, rule.Start, rule.Last())
		}
	}
	seen := map[string]bool{}
	for i, p := range r.Projects {
		if p == nil || p.Name == "" {
			return fmt.Errorf("projects[%d]: name is missing", i)
		}
		key := p.Name + "@" + p.Engine
		if seen[key] {
			return fmt.Errorf("projects[%d]: project %q appears twice", i, p.Name)
		}
		seen[key] = true
		for j, res := range p.Reservations {
			if res.Port < 1 || res.Port > 65535 {
				return fmt.Errorf("projects[%d] (%s) reservations[%d]: port %d is out of range", i, p.Name, j, res.Port)
			}
			if res.Protocol != "tcp" && res.Protocol != "udp" && res.Protocol != "sctp" {
				return fmt.Errorf("projects[%d] (%s) reservations[%d]: protocol %q", i, p.Name, j, res.Protocol)
			}
		}
	}
	return nil
}

// NewerVersionError is a file written by a newer devenv.
type NewerVersionError struct{ Have, Want int }

func (e *NewerVersionError) Error() string {
	return fmt.Sprintf("registry version %d is newer than this devenv understands (%d); upgrade devenv", e.Have, e.Want)
}

// ErrConflict marks every port conflict; the CLI maps it to exit code 3.
var ErrConflict = errdefs.New("port conflict", errdefs.ErrConflict)
