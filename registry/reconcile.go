package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Holder is whoever holds or claims a host port.
type Holder struct {
	Kind      string `json:"kind"` // project, container, process, unknown
	Project   string `json:"project,omitempty"`
	Dir       string `json:"directory,omitempty"`
	Service   string `json:"service,omitempty"`
	Container string `json:"container,omitempty"`
	PID       int    `json:"pid,omitempty"`
	Command   string `json:"command,omitempty"`
}

func (h Holder) String() string {
	switch h.Kind {
	case "project":
		s := "reserved by " + h.Project
		if h.Service != "" {
			s += " (service " + h.Service + ")"
		}
		if h.Dir != "" {
			s += " in " + h.Dir
		}
		return s
	case "container":
		s := "held by container " + h.Container
		if h.Project != "" {
			s += " of compose project " + h.Project
		} else {
			s += " (not a compose project)"
		}
		return s
	case "process":
		if h.PID == 0 {
			return "held by a process devenv cannot see (run as root, or check with lsof)"
		}
		return fmt.Sprintf("held by process %d (%s)", h.PID, h.Command)
	}
	return "held by something devenv cannot identify"
}

// PortRequest is what a project's file asks for; compose.PortRequest in
// registry terms.
type PortRequest struct {
	Service  string
	Role     string
	Target   int
	HostIP   string
	Port     int // 0 = no host port requested
	PortEnd  int // >0 for a published range
	Protocol string
	Host     bool
}

// Request is one project's reconciliation input.
type Request struct {
	Project string
	Dir     string
	Engine  string
	Stack   string
	Ports   []PortRequest
	// Strict fails instead of moving a colliding request.
	Strict bool
	// Reassign moves the services in Only (all when empty) by the rules again.
	Reassign bool
	Only     []string
	// Adopt accepts a new directory for a project whose old one is gone.
	Adopt bool
}

// Occupied reports who holds a port right now outside the registry: engine
// containers and host processes. It must leave out the requesting
// project's own containers.
type Occupied func(port int, protocol string) []Holder

// Remap is a request that got another port than it asked for.
type Remap struct {
	Service  string `json:"service"`
	Role     string `json:"role"`
	Target   int    `json:"target"`
	From     int    `json:"from"`
	To       int    `json:"to"`
	Because  Holder `json:"because"`
	Protocol string `json:"protocol"`
}

func (m Remap) String() string {
	return fmt.Sprintf("%s %d → %d: %d is %s", m.Service, m.From, m.To, m.From, m.Because)
}

// Result is the outcome of Reconcile.
type Result struct {
	Project *Project
	Remaps  []Remap
	Changed bool
}

// ConflictError is a port that cannot be used, naming who holds it.
type ConflictError struct {
	Project string
	Service string
	Port    int
	Proto   string
	Holder  Holder
	Sticky  bool
	Fix     string
}

func (e *ConflictError) Error() string {
	what := "requested"
	if e.Sticky {
		what = "assigned"
	}
	msg := fmt.Sprintf("service %s: %s port %d/%s is %s", e.Service, what, e.Port, e.Proto, e.Holder)
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// DirError is a project name already registered for another directory.
type DirError struct {
	Name, Registered, Dir string
	Moved                 bool
}

func (e *DirError) Error() string {
	if e.Moved {
		return fmt.Sprintf("project %q is registered for %s, which no longer exists; if the project moved to %s, run `devenv ports assign --adopt` there to keep its ports", e.Name, e.Registered, e.Dir)
	}
	return fmt.Sprintf("project name %q is already used by %s; pick another name for %s with -p NAME (or COMPOSE_PROJECT_NAME)", e.Name, e.Registered, e.Dir)
}

type portKey struct {
	port  int
	proto string
}

// claims lists every reservation on engine, except those of project skip.
func (r *Registry) claims(engine, skip string) map[portKey]Holder {
	out := map[portKey]Holder{}
	for _, p := range r.Projects {
		if p.Engine != engine || p.Name == skip {
			continue
		}
		for _, res := range p.Reservations {
			out[portKey{res.Port, res.Protocol}] = Holder{Kind: "project", Project: p.Name, Dir: p.Dir, Service: res.Service}
		}
	}
	return out
}

// Reconcile turns requests into assignments: sticky ones are kept (and
// checked), free requests are taken, colliding ones move to the next free port
// of their role's rule. It changes reg only on success.
func Reconcile(reg *Registry, req Request, occupied Occupied, dirExists func(string) bool) (Result, error) {
	if occupied == nil {
		occupied = func(int, string) []Holder { return nil }
	}
	existing := reg.Find(req.Project, req.Engine)
	if existing != nil && req.Dir != "" && existing.Dir != req.Dir {
		moved := dirExists != nil && !dirExists(existing.Dir)
		if !(moved && req.Adopt) {
			return Result{}, &DirError{Name: req.Project, Registered: existing.Dir, Dir: req.Dir, Moved: moved}
		}
	}
	claimed := reg.claims(req.Engine, req.Project)
	taken := map[portKey]string{}
	proj := &Project{Name: req.Project, Dir: req.Dir, Engine: req.Engine, Stack: req.Stack}
	old := map[string]Reservation{}
	if existing != nil {
		for _, res := range existing.Reservations {
			old[fmt.Sprintf("%s/%d/%s", res.Service, res.Target, res.Protocol)] = res
		}
	}
	var res Result
	// blockers returns the first holder that keeps us from using port.
	blocker := func(port int, proto string, host bool) (Holder, bool) {
		if h, ok := claimed[portKey{port, proto}]; ok {
			return h, true
		}
		if svc, ok := taken[portKey{port, proto}]; ok {
			return Holder{Kind: "project", Project: req.Project, Service: svc, Dir: req.Dir}, true
		}
		for _, h := range occupied(port, proto) {
			if host && h.Kind == "process" {
				// A host service is run by the developer: its own process
				// listening there is expected.
				continue
			}
			return h, true
		}
		return Holder{}, false
	}
	reqs := slices.Clone(req.Ports)
	// Sticky ones first, so a new request never steals an existing assignment.
	sort.SliceStable(reqs, func(i, j int) bool {
		_, si := old[reqKey(reqs[i])]
		_, sj := old[reqKey(reqs[j])]
		return si && !sj
	})
	for _, pr := range reqs {
		if pr.Port == 0 {
			continue
		}
		if pr.PortEnd > 0 {
			for port := pr.Port; port <= pr.PortEnd; port++ {
				if h, busy := blocker(port, pr.Protocol, pr.Host); busy {
					return Result{}, &ConflictError{Project: req.Project, Service: pr.Service, Port: port, Proto: pr.Protocol, Holder: h,
						Fix: "port ranges are never moved; free the port or change the range"}
				}
				taken[portKey{port, pr.Protocol}] = pr.Service
				proj.Reservations = append(proj.Reservations, Reservation{Service: pr.Service, Role: pr.Role, Target: pr.Target + port - pr.Port, HostIP: pr.HostIP, Port: port, Protocol: pr.Protocol, Host: pr.Host})
			}
			continue
		}
		move := req.Reassign && (len(req.Only) == 0 || slices.Contains(req.Only, pr.Service))
		if prev, ok := old[reqKey(pr)]; ok && !move {
			if h, busy := blocker(prev.Port, pr.Protocol, pr.Host); busy {
				return Result{}, &ConflictError{Project: req.Project, Service: pr.Service, Port: prev.Port, Proto: pr.Protocol, Holder: h, Sticky: true,
					Fix: fmt.Sprintf("stop it, or move %s with `devenv ports assign --reassign %s`", pr.Service, pr.Service)}
			}
			taken[portKey{prev.Port, pr.Protocol}] = pr.Service
			prev.Role, prev.HostIP, prev.Host = pr.Role, pr.HostIP, pr.Host
			proj.Reservations = append(proj.Reservations, prev)
			continue
		}
		port := pr.Port
		if h, busy := blocker(port, pr.Protocol, pr.Host); busy {
			if req.Strict {
				return Result{}, &ConflictError{Project: req.Project, Service: pr.Service, Port: port, Proto: pr.Protocol, Holder: h,
					Fix: "free the port, or drop --strict-ports to let devenv pick the next free one"}
			}
			next, ok := nextFree(reg, pr, func(p int) bool { _, b := blocker(p, pr.Protocol, pr.Host); return b })
			if !ok {
				return Result{}, &ConflictError{Project: req.Project, Service: pr.Service, Port: port, Proto: pr.Protocol, Holder: h,
					Fix: fmt.Sprintf("no free port left in the %s rule's range", pr.Role)}
			}
			res.Remaps = append(res.Remaps, Remap{Service: pr.Service, Role: pr.Role, Target: pr.Target, From: port, To: next, Because: h, Protocol: pr.Protocol})
			port = next
		}
		taken[portKey{port, pr.Protocol}] = pr.Service
		proj.Reservations = append(proj.Reservations, Reservation{Service: pr.Service, Role: pr.Role, Target: pr.Target, HostIP: pr.HostIP, Port: port, Protocol: pr.Protocol, Host: pr.Host})
	}
	sortReservations(proj)
	res.Project = proj
	res.Changed = existing == nil || !sameProject(existing, proj)
	if res.Changed {
		if existing != nil {
			*existing = *proj
		} else {
			reg.Projects = append(reg.Projects, proj)
		}
		reg.sort()
		res.Project = reg.Find(req.Project, req.Engine)
	}
	return res, nil
}

func sortReservations(p *Project) {
	sort.SliceStable(p.Reservations, func(i, j int) bool {
		a, b := p.Reservations[i], p.Reservations[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Target < b.Target
	})
}

func reqKey(pr PortRequest) string {
	return fmt.Sprintf("%s/%d/%s", pr.Service, pr.Target, pr.Protocol)
}

// nextFree walks the role's rule (or, without one, upwards from the request)
// for the first port that is not busy.
func nextFree(reg *Registry, pr PortRequest, busy func(int) bool) (int, bool) {
	start, last := pr.Port+1, 65535
	if rule, ok := reg.Rule(pr.Role); ok {
		start, last = rule.Start, rule.Last()
	}
	for p := start; p <= last; p++ {
		if p != pr.Port && !busy(p) {
			return p, true
		}
	}
	return 0, false
}

func sameProject(a, b *Project) bool {
	if a.Name != b.Name || a.Dir != b.Dir || a.Engine != b.Engine || a.Stack != b.Stack || len(a.Reservations) != len(b.Reservations) {
		return false
	}
	x := slices.Clone(a.Reservations)
	y := slices.Clone(b.Reservations)
	less := func(p, q Reservation) int { return strings.Compare(fmt.Sprint(p), fmt.Sprint(q)) }
	slices.SortFunc(x, less)
	slices.SortFunc(y, less)
	return slices.Equal(x, y)
}

// Conflict is one finding of Check.
type Conflict struct {
	Port     int      `json:"port"`
	Protocol string   `json:"protocol"`
	Engine   string   `json:"engine,omitempty"`
	Claims   []Holder `json:"claims"`
	Holders  []Holder `json:"holders,omitempty"`
}

func (c Conflict) String() string {
	var parts []string
	for _, h := range c.Claims {
		parts = append(parts, h.String())
	}
	for _, h := range c.Holders {
		parts = append(parts, h.String())
	}
	return fmt.Sprintf("%d/%s: %s", c.Port, c.Protocol, strings.Join(parts, "; "))
}

// Check finds ports claimed twice, and claimed ports held by something other
// than the claiming project. occupied(engine) gives the holders on an engine;
// it may be nil for an engine that cannot be probed.
func Check(reg *Registry, occupied func(engine string) Occupied) []Conflict {
	type claimSet struct {
		engine string
		key    portKey
		claims []Holder
		host   []bool
	}
	type setKey struct {
		engine string
		port   int
		proto  string
	}
	sets := map[setKey]*claimSet{}
	var order []setKey
	for _, p := range reg.Projects {
		for _, r := range p.Reservations {
			k := setKey{p.Engine, r.Port, r.Protocol}
			cs, ok := sets[k]
			if !ok {
				cs = &claimSet{engine: p.Engine, key: portKey{r.Port, r.Protocol}}
				sets[k] = cs
				order = append(order, k)
			}
			cs.claims = append(cs.claims, Holder{Kind: "project", Project: p.Name, Dir: p.Dir, Service: r.Service})
			cs.host = append(cs.host, r.Host)
		}
	}
	var out []Conflict
	for _, k := range order {
		cs := sets[k]
		c := Conflict{Port: cs.key.port, Protocol: cs.key.proto, Engine: cs.engine, Claims: cs.claims}
		bad := len(cs.claims) > 1
		if occupied != nil {
			if occ := occupied(cs.engine); occ != nil {
				for _, h := range occ(cs.key.port, cs.key.proto) {
					if len(cs.claims) == 1 && ownedBy(h, cs.claims[0], cs.host[0]) {
						continue
					}
					c.Holders = append(c.Holders, h)
					bad = true
				}
			}
		}
		if bad {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

// ownedBy says whether holder h is the claiming project itself: its own
// compose container, or, for a host service, the developer's process.
func ownedBy(h, claim Holder, host bool) bool {
	switch h.Kind {
	case "container":
		return h.Project == claim.Project
	case "process", "unknown":
		return host
	}
	return false
}
