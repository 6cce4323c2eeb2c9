package registry

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func req(project string, ports ...PortRequest) Request {
	return Request{Project: project, Dir: "/src/" + project, Ports: ports}
}

func pr(service, role string, target, port int) PortRequest {
	return PortRequest{Service: service, Role: role, Target: target, Port: port, Protocol: "tcp"}
}

// referenceProjects registers the reference document's three projects.
func referenceProjects(t *testing.T) *Registry {
	t.Helper()
	reg := New()
	for _, r := range []Request{
		req("sertantai-auth", PortRequest{Service: "backend", Role: "phoenix", Target: 4000, Port: 4000, Protocol: "tcp", Host: true}, pr("postgres", "postgres", 5432, 5432)),
		req("sertantai-controls", PortRequest{Service: "backend", Role: "phoenix", Target: 4001, Port: 4001, Protocol: "tcp", Host: true},
			PortRequest{Service: "frontend", Role: "vite", Target: 5174, Port: 5174, Protocol: "tcp", Host: true},
			pr("postgres", "postgres", 5432, 5435), pr("electric", "electric", 3000, 3000)),
		req("sertantai-enforcement", PortRequest{Service: "backend", Role: "phoenix", Target: 4002, Port: 4002, Protocol: "tcp", Host: true},
			PortRequest{Service: "frontend", Role: "vite", Target: 5173, Port: 5173, Protocol: "tcp", Host: true},
			pr("postgres", "postgres", 5432, 5434), pr("electric", "electric", 3000, 3001), pr("redis", "redis", 6379, 6380)),
	} {
		res, err := Reconcile(reg, r, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Remaps) != 0 {
			t.Fatalf("%s: unexpected remaps %v", r.Project, res.Remaps)
		}
	}
	return reg
}

func ports(p *Project) string {
	var out []string
	for _, r := range p.Reservations {
		out = append(out, fmt.Sprintf("%s=%d", r.Service, r.Port))
	}
	return strings.Join(out, " ")
}

func TestReconcileFourthProjectFollowsRules(t *testing.T) {
	reg := referenceProjects(t)
	res, err := Reconcile(reg, req("fourth", pr("postgres", "postgres", 5432, 5434), pr("electric", "electric", 3000, 3000), pr("redis", "redis", 6379, 6380)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ports(res.Project); got != "electric=3002 postgres=5436 redis=6381" {
		t.Fatalf("fourth project got %s", got)
	}
	if len(res.Remaps) != 3 || !strings.Contains(res.Remaps[0].String()+res.Remaps[1].String()+res.Remaps[2].String(), "5434 is reserved by sertantai-enforcement") {
		t.Fatalf("remaps: %v", res.Remaps)
	}
	// Sticky: asking again keeps the same assignment and changes nothing.
	again, err := Reconcile(reg, req("fourth", pr("postgres", "postgres", 5432, 5434), pr("electric", "electric", 3000, 3000), pr("redis", "redis", 6379, 6380)), nil, nil)
	if err != nil || again.Changed || ports(again.Project) != "electric=3002 postgres=5436 redis=6381" || len(again.Remaps) != 0 {
		t.Fatalf("not sticky: %v %v %s", err, again.Changed, ports(again.Project))
	}
}

func TestReconcileStrictNamesOwner(t *testing.T) {
	reg := referenceProjects(t)
	before, _ := Encode(reg)
	r := req("fourth", pr("postgres", "postgres", 5432, 5434))
	r.Strict = true
	_, err := Reconcile(reg, r, nil, nil)
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
		t.Fatalf("want a conflict, got %v", err)
	}
	if !strings.Contains(err.Error(), "sertantai-enforcement") || !strings.Contains(err.Error(), "5434") {
		t.Fatalf("message must name the owner: %v", err)
	}
	after, _ := Encode(reg)
	if string(before) != string(after) {
		t.Fatal("a failed reconcile changed the registry")
	}
}

func TestReconcileHolders(t *testing.T) {
	proc := Holder{Kind: "process", PID: 4242, Command: "postgres -D /x"}
	ctr := Holder{Kind: "container", Container: "other-db-1", Project: "other"}
	occupied := func(port int, proto string) []Holder {
		switch port {
		case 5434:
			return []Holder{proc}
		case 6380:
			return []Holder{ctr}
		}
		return nil
	}
	cases := []struct {
		name    string
		prepare func(*Registry)
		request Request
		want    string // ports, or error substring prefixed with "error:"
	}{
		{"new request held by a process moves", nil, req("p", pr("postgres", "postgres", 5432, 5434)), "postgres=5435"},
		{"new request held by a container moves", nil, req("p", pr("redis", "redis", 6379, 6380)), "redis=6381"},
		{"strict names the pid", nil, func() Request { r := req("p", pr("postgres", "postgres", 5432, 5434)); r.Strict = true; return r }(), "error:process 4242 (postgres -D /x)"},
		{"sticky held by a container fails", func(reg *Registry) {
			reg.Projects = append(reg.Projects, &Project{Name: "p", Dir: "/src/p", Reservations: []Reservation{{Service: "redis", Role: "redis", Target: 6379, Port: 6380, Protocol: "tcp"}}})
		}, req("p", pr("redis", "redis", 6379, 6380)), "error:container other-db-1 of compose project other"},
		{"sticky reassign moves", func(reg *Registry) {
			reg.Projects = append(reg.Projects, &Project{Name: "p", Dir: "/src/p", Reservations: []Reservation{{Service: "redis", Role: "redis", Target: 6379, Port: 6380, Protocol: "tcp"}}})
		}, func() Request { r := req("p", pr("redis", "redis", 6379, 6380)); r.Reassign = true; return r }(), "redis=6381"},
		{"host service tolerates its own process", nil, req("p", PortRequest{Service: "backend", Role: "phoenix", Target: 5434, Port: 5434, Protocol: "tcp", Host: true}), "backend=5434"},
		{"role without rule walks up", nil, req("p", pr("api", "api", 80, 6380)), "api=6381"},
		{"no host port is not reserved", nil, req("p", pr("api", "api", 80, 0)), ""},
		{"range reserved as is", nil, req("p", PortRequest{Service: "web", Role: "web", Target: 9000, Port: 9000, PortEnd: 9002, Protocol: "tcp"}), "web=9000 web=9001 web=9002"},
		{"range with a held port fails", nil, req("p", PortRequest{Service: "web", Role: "web", Target: 6379, Port: 6379, PortEnd: 6381, Protocol: "tcp"}), "error:port ranges are never moved"},
		{"udp and tcp are separate", func(reg *Registry) {
			reg.Projects = append(reg.Projects, &Project{Name: "q", Dir: "/src/q", Reservations: []Reservation{{Service: "dns", Role: "dns", Target: 53, Port: 5353, Protocol: "udp"}}})
		}, req("p", pr("web", "web", 80, 5353)), "web=5353"},
		{"same name, other directory", func(reg *Registry) {
			reg.Projects = append(reg.Projects, &Project{Name: "p", Dir: "/elsewhere/p"})
		}, req("p", pr("web", "web", 80, 8080)), "error:already used by /elsewhere/p"},
		{"a remote engine's ports are forwarded here, so they are claimed here", func(reg *Registry) {
			reg.Projects = append(reg.Projects, &Project{Name: "q", Dir: "/src/q", Engine: "ID-BOX", Reservations: []Reservation{{Service: "web", Role: "web", Target: 80, Port: 8080, Protocol: "tcp"}}})
		}, req("p", pr("web", "web", 80, 8080)), "web=8081"},
		{"the same name on another engine is another project", func(reg *Registry) {
			reg.Projects = append(reg.Projects, &Project{Name: "p", Dir: "/elsewhere/p", Engine: "ID-BOX", Reservations: []Reservation{{Service: "web", Role: "web", Target: 80, Port: 8080, Protocol: "tcp"}}})
		}, req("p", pr("web", "web", 80, 8080)), "web=8081"},
		{"a project keyed by endpoint is taken over by the engine's ID", func(reg *Registry) {
			reg.Projects = append(reg.Projects, &Project{Name: "p", Dir: "/src/p", Engine: "tcp://box:2375", Reservations: []Reservation{{Service: "web", Role: "web", Target: 80, Port: 8090, Requested: 8080, Protocol: "tcp"}}})
		}, func() Request {
			r := req("p", pr("web", "web", 80, 8080))
			r.Engine, r.Endpoint = "ID-BOX", "tcp://box:2375"
			return r
		}(), "web=8090"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := New()
			if c.prepare != nil {
				c.prepare(reg)
			}
			res, err := Reconcile(reg, c.request, occupied, func(string) bool { return true })
			if strings.HasPrefix(c.want, "error:") {
				if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(c.want, "error:")) {
					t.Fatalf("got %v, want error containing %q", err, strings.TrimPrefix(c.want, "error:"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ports(res.Project); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestReconcileMovedDirectory(t *testing.T) {
	reg := New()
	reg.Projects = []*Project{{Name: "p", Dir: "/old/p", Reservations: []Reservation{{Service: "db", Role: "postgres", Target: 5432, Port: 5440, Protocol: "tcp"}}}}
	gone := func(d string) bool { return d != "/old/p" }
	_, err := Reconcile(reg, req("p", pr("db", "postgres", 5432, 5432)), nil, gone)
	if err == nil || !strings.Contains(err.Error(), "no longer exists") || !strings.Contains(err.Error(), "--adopt") {
		t.Fatalf("moved project: %v", err)
	}
	r := req("p", pr("db", "postgres", 5432, 5432))
	r.Adopt = true
	res, err := Reconcile(reg, r, nil, gone)
	if err != nil || res.Project.Dir != "/src/p" || ports(res.Project) != "db=5440" {
		t.Fatalf("adopt: %v %+v", err, res.Project)
	}
}

func TestCheck(t *testing.T) {
	reg := referenceProjects(t)
	if got := Check(reg, nil); len(got) != 0 {
		t.Fatalf("clean registry has conflicts: %v", got)
	}
	reg.Projects = append(reg.Projects, &Project{Name: "dup", Dir: "/d", Reservations: []Reservation{{Service: "db", Role: "postgres", Target: 5432, Port: 5434, Protocol: "tcp"}}})
	occ := func(string) Occupied {
		return func(port int, proto string) []Holder {
			switch port {
			case 6380:
				return []Holder{{Kind: "container", Container: "x", Project: "other"}}
			case 3001:
				return []Holder{{Kind: "container", Container: "ehs_dev_electric", Project: "sertantai-enforcement"}}
			case 4002:
				return []Holder{{Kind: "process", PID: 7, Command: "beam.smp"}}
			}
			return nil
		}
	}
	got := Check(reg, occ)
	var s []string
	for _, c := range got {
		s = append(s, c.String())
	}
	joined := strings.Join(s, "\n")
	if len(got) != 2 || !strings.Contains(joined, "5434/tcp") || !strings.Contains(joined, "6380/tcp") {
		t.Fatalf("conflicts:\n%s", joined)
	}
}

func BenchmarkReconcile(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		reg := bigRegistry(n)
		b.Run(fmt.Sprintf("projects=%d", n), func(b *testing.B) {
			for b.Loop() {
				r := reg
				_, err := Reconcile(r, req("bench-new", pr("postgres", "postgres", 5432, 5434), pr("redis", "redis", 6379, 6380)), nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				r.Remove("bench-new", "")
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		reg := bigRegistry(n)
		b.Run(fmt.Sprintf("projects=%d", n), func(b *testing.B) {
			for b.Loop() {
				Check(reg, nil)
			}
		})
	}
}

func bigRegistry(n int) *Registry {
	reg := New()
	for i := 0; i < n; i++ {
		p := &Project{Name: fmt.Sprintf("project-%04d", i), Dir: fmt.Sprintf("/src/project-%04d", i), Stack: "Phoenix"}
		base := 10000 + i*5
		for j, s := range []string{"backend", "frontend", "postgres", "electric", "redis"} {
			p.Reservations = append(p.Reservations, Reservation{Service: s, Role: s, Target: 1000 + j, Port: base + j, Protocol: "tcp"})
		}
		reg.Projects = append(reg.Projects, p)
	}
	return reg
}

func TestReconcileRekeysAProjectRecordedByEndpoint(t *testing.T) {
	reg := New()
	reg.Projects = []*Project{
		{Name: "p", Dir: "/src/p", Engine: "tcp://box:2375", Reservations: []Reservation{{Service: "web", Role: "web", Target: 80, Port: 8090, Requested: 8080, Protocol: "tcp"}}},
		{Name: "p", Dir: "/src/p", Reservations: []Reservation{{Service: "web", Role: "web", Target: 80, Port: 8080, Requested: 8080, Protocol: "tcp"}}},
	}
	r := req("p", pr("web", "web", 80, 8080))
	r.Engine, r.Endpoint = "ID-BOX", "tcp://box:2375"
	res, err := Reconcile(reg, r, nil, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || len(reg.Projects) != 2 {
		t.Fatalf("changed %v, %d projects; want the endpoint-keyed one rewritten in place", res.Changed, len(reg.Projects))
	}
	got := reg.Find("p", "ID-BOX")
	if got == nil || got.Endpoint != "tcp://box:2375" || ports(got) != "web=8090" || reg.Find("p", "tcp://box:2375") != nil {
		t.Fatalf("got %+v", got)
	}
	if local := reg.Find("p", ""); local == nil || ports(local) != "web=8080" {
		t.Fatalf("the local project changed: %+v", local)
	}
}

// A remote project's own container is its own whichever endpoint reached
// the engine: ownership goes by the engine's ID, not the address shown.
func TestCheckOwnsARemoteContainerByEngineID(t *testing.T) {
	reg := New()
	reg.Projects = []*Project{{Name: "p", Dir: "/src/p", Engine: "ID-BOX", Endpoint: "tcp://box:2375",
		Reservations: []Reservation{{Service: "db", Role: "postgres", Target: 5432, Port: 5434, Protocol: "tcp"}}}}
	for _, c := range []struct {
		holder Holder
		want   int
	}{
		{Holder{Kind: "container", Container: "p-db-1", Project: "p", Engine: "ssh://box", EngineID: "ID-BOX"}, 0},
		{Holder{Kind: "container", Container: "p-db-1", Project: "p", Engine: "tcp://box:2375", EngineID: "ID-OTHER"}, 1},
		{Holder{Kind: "container", Container: "q-db-1", Project: "q", Engine: "ssh://box", EngineID: "ID-BOX"}, 1},
	} {
		occ := func(engine string) Occupied {
			return func(port int, proto string) []Holder {
				if engine == "ID-BOX" && port == 5434 {
					return []Holder{c.holder}
				}
				return nil
			}
		}
		if got := Check(reg, occ); len(got) != c.want {
			t.Errorf("holder %+v: %d conflicts %v, want %d", c.holder, len(got), got, c.want)
		}
	}
}

// A host service devenv runs follows the containers' rule: a stranger on
// its requested port moves it to the first free port of its role's rule;
// --strict-ports refuses; a sticky assignment taken later is a conflict.
func TestReconcileManagedHostServiceMovesPastStranger(t *testing.T) {
	backend := PortRequest{Service: "backend", Role: "phoenix", Target: 4002, Port: 4002, Protocol: "tcp", Host: true, Managed: true}
	python := Holder{Kind: "process", PID: 77, Command: "python3 -m http.server 4002"}
	stranger := func(port int, _ string) []Holder {
		if port == 4002 {
			return []Holder{python}
		}
		return nil
	}
	reg := New()
	strict := req("enforcement", backend)
	strict.Strict = true
	if _, err := Reconcile(reg, strict, stranger, nil); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "python3") {
		t.Fatalf("--strict-ports: %v", err)
	}
	if len(reg.Projects) != 0 {
		t.Fatalf("a refused reconcile changed the registry: %+v", reg.Projects)
	}
	res, err := Reconcile(reg, req("enforcement", backend), stranger, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ports(res.Project); got != "backend=4000" {
		t.Fatalf("got %s, want the rule's first free port", got)
	}
	if len(res.Remaps) != 1 || res.Remaps[0].String() != "backend 4002 → 4000: 4002 is held by process 77 (python3 -m http.server 4002)" {
		t.Fatalf("remaps: %v", res.Remaps)
	}
	// Sticky: the stranger moves to 4000 later; that is exit 3, not a move.
	taken := func(port int, _ string) []Holder {
		if port == 4000 {
			return []Holder{python}
		}
		return nil
	}
	_, err = Reconcile(reg, req("enforcement", backend), taken, nil)
	var ce *ConflictError
	if !errors.As(err, &ce) || !ce.Sticky || ce.Port != 4000 {
		t.Fatalf("sticky assignment taken later: %v", err)
	}
}
