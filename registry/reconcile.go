package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

type portKey struct {
	port  int
	proto string
}

// claims lists every reservation except skip's. The ports of projects on
// every engine count: a remote engine's ports are forwarded to this
// machine's loopback at the same numbers.
func (r *Registry) claims(skip *Project) map[portKey]Holder {
	out := map[portKey]Holder{}
	for _, p := range r.Projects {
		if p == skip {
			continue
		}
		for _, res := range p.Reservations {
			out[portKey{res.Port, res.Protocol}] = Holder{Kind: "project", Project: p.Name, Dir: p.Dir, Service: res.Service}
		}
	}
	return out
}

// reconciler holds one Reconcile call's working state.
type reconciler struct {
	reg      *Registry
	req      Request
	occupied Occupied
	claimed  map[portKey]Holder
	// taken are the ports this project has assigned so far, by host IP.
	taken map[portKey][]Reservation
	old   []Reservation
	used  []bool // old[i] already matched a request
	proj  *Project
	res   Result
}

// Reconcile turns requests into assignments: sticky ones are kept (and
// checked), free requests are taken, colliding ones move to the next free port
// of their role's rule. It changes reg only on success.
func Reconcile(reg *Registry, req Request, occupied Occupied, dirExists func(string) bool) (Result, error) {
	if occupied == nil {
		occupied = func(int, string) []Holder { return nil }
	}
	existing := reg.Find(req.Project, req.Engine)
	if existing == nil && req.Engine != "" && req.Endpoint != "" {
		existing = reg.Find(req.Project, req.Endpoint)
	}
	if existing != nil && req.Dir != "" && existing.Dir != req.Dir {
		moved := dirExists != nil && !dirExists(existing.Dir)
		if !(moved && req.Adopt) {
			return Result{}, &DirError{Name: req.Project, Registered: existing.Dir, Dir: req.Dir, Moved: moved}
		}
	}
	for _, n := range req.Names {
		for _, other := range reg.Projects {
			if other == existing || (other.Name == req.Project && other.Engine == req.Engine) {
				continue
			}
			if slices.ContainsFunc(other.Names, func(o Name) bool { return o.Host == n.Host }) {
				return Result{}, &NameTakenError{Host: n.Host, Project: other.Name, Dir: other.Dir}
			}
		}
	}
	r := &reconciler{
		reg: reg, req: req, occupied: occupied, claimed: reg.claims(existing),
		taken: map[portKey][]Reservation{},
		proj:  &Project{Name: req.Project, Dir: req.Dir, Engine: req.Engine, Endpoint: req.Endpoint, Stack: req.Stack, Names: req.Names, Instance: req.Instance},
	}
	if existing != nil {
		r.old = existing.Reservations
	}
	r.used = make([]bool, len(r.old))
	r.keepInactive()
	// Sticky ones first, so a new request never steals an existing assignment.
	reqs := slices.Clone(req.Ports)
	sort.SliceStable(reqs, func(i, j int) bool {
		return r.previous(reqs[i], false) >= 0 && r.previous(reqs[j], false) < 0
	})
	for _, pr := range reqs {
		if err := r.assign(pr); err != nil {
			return Result{}, err
		}
	}
	sortReservations(r.proj)
	r.res.Project = r.proj
	r.res.Changed = existing == nil || !sameProject(existing, r.proj)
	if r.res.Changed {
		if existing != nil {
			*existing = *r.proj
		} else {
			reg.Projects = append(reg.Projects, r.proj)
		}
		reg.sort()
		r.res.Project = reg.Find(req.Project, req.Engine)
	}
	return r.res, nil
}

// keepInactive carries over, unchecked, the reservations of services the
// file declares but does not run now.
func (r *reconciler) keepInactive() {
	for i, res := range r.old {
		if slices.Contains(r.req.Keep, res.Service) {
			r.used[i] = true
			r.take(res)
		}
	}
}

func (r *reconciler) take(res Reservation) {
	k := portKey{res.Port, res.Protocol}
	r.taken[k] = append(r.taken[k], res)
	r.proj.Reservations = append(r.proj.Reservations, res)
}

// previous finds the reservation made for pr: the same request, else the
// same request at another position in the list, else (files written before
// requests were recorded) the same service and container port. mark
// records the match. -1 when the request is new or changed.
func (r *reconciler) previous(pr PortRequest, mark bool) int {
	key := pr.Key()
	match := func(ok func(Reservation) bool) int {
		for i, res := range r.old {
			if !r.used[i] && ok(res) {
				if mark {
					r.used[i] = true
				}
				return i
			}
		}
		return -1
	}
	if i := match(func(res Reservation) bool { return res.Key() == key }); i >= 0 {
		return i
	}
	if i := match(func(res Reservation) bool { return res.Key().sameRequest(key) }); i >= 0 {
		return i
	}
	return match(func(res Reservation) bool {
		return res.Requested == 0 && res.Service == pr.Service && res.Target == pr.Target && res.Protocol == pr.Protocol
	})
}

// changedFrom is the old assignment of the same service and container port
// when the file now asks for another host port; 0 if none.
func (r *reconciler) changedFrom(pr PortRequest) int {
	for i, res := range r.old {
		if !r.used[i] && res.Service == pr.Service && res.Target == pr.Target && res.Protocol == pr.Protocol && res.Requested != pr.Port {
			r.used[i] = true
			return res.Port
		}
	}
	return 0
}

// blocker returns the first holder that keeps pr from using port.
func (r *reconciler) blocker(port int, pr PortRequest) (Holder, bool) {
	if h, ok := r.claimed[portKey{port, pr.Protocol}]; ok {
		return h, true
	}
	for _, res := range r.taken[portKey{port, pr.Protocol}] {
		if overlap(res.HostIP, pr.HostIP) {
			return Holder{Kind: "project", Project: r.req.Project, Service: res.Service, Dir: r.req.Dir}, true
		}
	}
	for _, h := range r.occupied(port, pr.Protocol) {
		if pr.Host && !pr.Managed && h.Kind == "process" {
			// A host service the developer runs: their process listening
			// there is expected.
			continue
		}
		return h, true
	}
	return Holder{}, false
}

// overlap says whether two host IPs of one project can collide: equal, or
// either unspecified.
func overlap(a, b string) bool {
	wild := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return a == b || wild(a) || wild(b)
}

func (pr PortRequest) reservation(port int, key PortKey) Reservation {
	return Reservation{Service: pr.Service, Role: pr.Role, Target: key.Target, HostIP: pr.HostIP, Port: port,
		Requested: key.Requested, Index: pr.Index, Protocol: pr.Protocol, Host: pr.Host}
}

func (r *reconciler) assign(pr PortRequest) error {
	switch {
	case pr.Port == 0:
		return nil
	case pr.PortEnd > 0:
		return r.assignRange(pr)
	}
	move := r.req.Reassign && (len(r.req.Only) == 0 || slices.Contains(r.req.Only, pr.Service))
	if i := r.previous(pr, true); i >= 0 && !move {
		prev := r.old[i]
		if h, busy := r.blocker(prev.Port, pr); busy {
			return &ConflictError{Project: r.req.Project, Service: pr.Service, Port: prev.Port, Proto: pr.Protocol, Holder: h, Sticky: true,
				Fix: fmt.Sprintf("stop it, or move %s with `devenv ports assign --reassign %s`", pr.Service, pr.Service)}
		}
		if prev.Requested == 0 && prev.Port != pr.Port {
			// Assigned before devenv recorded requests: whether the file
			// changed since is unknown, so the port is kept and said.
			r.res.Remaps = append(r.res.Remaps, Remap{Service: pr.Service, Role: pr.Role, Target: pr.Target, From: pr.Port, To: prev.Port, Protocol: pr.Protocol, Kept: true})
		}
		r.take(pr.reservation(prev.Port, pr.Key()))
		return nil
	}
	from := r.changedFrom(pr)
	port := pr.Port
	if h, busy := r.blocker(port, pr); busy {
		if r.req.Strict {
			return &ConflictError{Project: r.req.Project, Service: pr.Service, Port: port, Proto: pr.Protocol, Holder: h,
				Fix: "free the port, or drop --strict-ports to let devenv pick the next free one"}
		}
		next, ok := nextFree(r.reg, pr, func(p int) bool { _, b := r.blocker(p, pr); return b })
		if !ok {
			return &ConflictError{Project: r.req.Project, Service: pr.Service, Port: port, Proto: pr.Protocol, Holder: h, Fix: noFreePort(r.reg, pr)}
		}
		r.res.Remaps = append(r.res.Remaps, Remap{Service: pr.Service, Role: pr.Role, Target: pr.Target, From: port, To: next, Because: h, Protocol: pr.Protocol})
		port = next
	} else if from != 0 && from != port {
		r.res.Remaps = append(r.res.Remaps, Remap{Service: pr.Service, Role: pr.Role, Target: pr.Target, From: from, To: port, Protocol: pr.Protocol, Changed: true})
	}
	r.take(pr.reservation(port, pr.Key()))
	return nil
}

// assignRange reserves every port of a published range; ranges never move.
func (r *reconciler) assignRange(pr PortRequest) error {
	for port := pr.Port; port <= pr.PortEnd; port++ {
		if h, busy := r.blocker(port, pr); busy {
			return &ConflictError{Project: r.req.Project, Service: pr.Service, Port: port, Proto: pr.Protocol, Holder: h,
				Fix: "port ranges are never moved; free the port or change the range"}
		}
		r.take(pr.reservation(port, pr.rangeKey(port)))
	}
	for i, res := range r.old {
		if res.Service == pr.Service && res.Port >= pr.Port && res.Port <= pr.PortEnd && res.Protocol == pr.Protocol {
			r.used[i] = true
		}
	}
	return nil
}

func noFreePort(reg *Registry, pr PortRequest) string {
	if rule, ok := reg.Rule(pr.Role); ok {
		return fmt.Sprintf("no free port left in the %s rule's range %d-%d", pr.Role, rule.Start, rule.Last())
	}
	return fmt.Sprintf("no free port above %d, and role %s has no rule in the registry", pr.Port, pr.Role)
}

func sortReservations(p *Project) {
	sort.SliceStable(p.Reservations, func(i, j int) bool {
		a, b := p.Reservations[i], p.Reservations[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Index != b.Index {
			return a.Index < b.Index
		}
		return a.Target < b.Target
	})
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
	if a.Name != b.Name || a.Dir != b.Dir || a.Engine != b.Engine || a.Endpoint != b.Endpoint || a.Stack != b.Stack || a.Instance != b.Instance ||
		len(a.Reservations) != len(b.Reservations) || !slices.Equal(a.Names, b.Names) {
		return false
	}
	x := slices.Clone(a.Reservations)
	y := slices.Clone(b.Reservations)
	less := func(p, q Reservation) int { return strings.Compare(fmt.Sprint(p), fmt.Sprint(q)) }
	slices.SortFunc(x, less)
	slices.SortFunc(y, less)
	return slices.Equal(x, y)
}
