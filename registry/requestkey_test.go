package registry

import (
	"errors"
	"strings"
	"testing"
)

// An edited request in the file is reconciled anew and reported; an
// unchanged one keeps its (possibly moved) assignment.
func TestReconcileChangedRequestIsNotSticky(t *testing.T) {
	reg := New()
	if _, err := Reconcile(reg, req("a", pr("db", "postgres", 5432, 5434)), nil, nil); err != nil {
		t.Fatal(err)
	}
	res, err := Reconcile(reg, req("a", pr("db", "postgres", 5432, 5440)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ports(res.Project); got != "db=5440" {
		t.Fatalf("after editing 5434 to 5440 the assignment is %s", got)
	}
	if len(res.Remaps) != 1 || !res.Remaps[0].Changed || res.Remaps[0].From != 5434 || res.Remaps[0].To != 5440 {
		t.Fatalf("the change is not reported: %+v", res.Remaps)
	}
	if !strings.Contains(res.Remaps[0].String(), "5434 → 5440") {
		t.Fatalf("report: %s", res.Remaps[0])
	}
	// Unchanged: sticky, nothing reported.
	res, err = Reconcile(reg, req("a", pr("db", "postgres", 5432, 5440)), nil, nil)
	if err != nil || res.Changed || len(res.Remaps) != 0 {
		t.Fatalf("unchanged request: changed=%v remaps=%v err=%v", res.Changed, res.Remaps, err)
	}
}

// A remapped assignment stays sticky while the request is unchanged, and a
// line that moves within the list keeps its port.
func TestReconcileStickyAcrossReorder(t *testing.T) {
	reg := New()
	other := req("other", pr("db", "postgres", 5432, 5434))
	if _, err := Reconcile(reg, other, nil, nil); err != nil {
		t.Fatal(err)
	}
	a := pr("db", "postgres", 5432, 5434)
	b := pr("db", "postgres", 9000, 9000)
	b.Index = 1
	if _, err := Reconcile(reg, req("a", a, b), nil, nil); err != nil {
		t.Fatal(err)
	}
	a.Index, b.Index = 1, 0
	res, err := Reconcile(reg, req("a", b, a), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ports(res.Project); got != "db=9000 db=5435" {
		t.Fatalf("after reordering: %s", got)
	}
	if len(res.Remaps) != 0 {
		t.Fatalf("reordering reported %v", res.Remaps)
	}
}

// One container port published twice keeps both host ports, and the next
// reconcile does not conflict with itself.
func TestReconcileOneTargetPublishedTwice(t *testing.T) {
	for _, tc := range []struct {
		name string
		reqs []PortRequest
		want string
	}{
		{"two host ports", []PortRequest{
			{Service: "web", Role: "web", Target: 80, Port: 8080, Protocol: "tcp"},
			{Service: "web", Role: "web", Target: 80, Port: 8081, Protocol: "tcp", Index: 1},
		}, "web=8080 web=8081"},
		{"IPv4 and IPv6 loopback", []PortRequest{
			{Service: "web", Role: "web", Target: 80, HostIP: "127.0.0.1", Port: 8080, Protocol: "tcp"},
			{Service: "web", Role: "web", Target: 80, HostIP: "::1", Port: 8080, Protocol: "tcp", Index: 1},
		}, "web=8080 web=8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := New()
			for i := 0; i < 2; i++ {
				res, err := Reconcile(reg, req("a", tc.reqs...), nil, nil)
				if err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
				if got := ports(res.Project); got != tc.want {
					t.Fatalf("run %d: %s, want %s", i+1, got, tc.want)
				}
				if len(res.Remaps) != 0 {
					t.Fatalf("run %d: remaps %v", i+1, res.Remaps)
				}
			}
		})
	}
}

// Reservations of services the file does not run now (inactive profiles)
// survive a reconcile that does not ask for them.
func TestReconcileKeepsInactiveServices(t *testing.T) {
	reg := New()
	if _, err := Reconcile(reg, req("a", pr("db", "postgres", 5432, 5434), pr("mail", "mail", 1025, 1025)), nil, nil); err != nil {
		t.Fatal(err)
	}
	r := req("a", pr("db", "postgres", 5432, 5434))
	r.Keep = []string{"mail"}
	res, err := Reconcile(reg, r, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ports(res.Project); got != "db=5434 mail=1025" {
		t.Fatalf("inactive service lost its port: %s", got)
	}
	// Another project cannot take it meanwhile.
	res, err = Reconcile(reg, req("b", pr("mail", "mail", 1025, 1025)), nil, nil)
	if err != nil || ports(res.Project) == "mail=1025" {
		t.Fatalf("another project got the inactive service's port: %s %v", ports(res.Project), err)
	}
}

// Files written before requests were recorded stay sticky.
func TestReconcileLegacyReservationsStaySticky(t *testing.T) {
	reg := New()
	reg.Projects = []*Project{{Name: "a", Dir: "/src/a", Reservations: []Reservation{{Service: "db", Role: "postgres", Target: 5432, Port: 5436, Protocol: "tcp"}}}}
	res, err := Reconcile(reg, req("a", pr("db", "postgres", 5432, 5434)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ports(res.Project); got != "db=5436" || len(res.Remaps) != 1 || !res.Remaps[0].Kept || !strings.Contains(res.Remaps[0].String(), "--reassign db") {
		t.Fatalf("legacy reservation: %s %v", got, res.Remaps)
	}
	if res.Project.Reservations[0].Requested != 5434 {
		t.Fatalf("request not recorded: %+v", res.Project.Reservations[0])
	}
}

func TestNoFreePortMessage(t *testing.T) {
	reg := New()
	if got := noFreePort(reg, pr("x", "custom", 1, 65535)); !strings.Contains(got, "has no rule") || strings.Contains(got, "rule's range") {
		t.Fatalf("role without a rule: %q", got)
	}
	if got := noFreePort(reg, pr("db", "postgres", 5432, 5434)); !strings.Contains(got, "5434-6433") {
		t.Fatalf("role with a rule: %q", got)
	}
}

// A version 1 file is written back as version 2.
func TestEncodeWritesCurrentVersion(t *testing.T) {
	reg := &Registry{Version: 1}
	b, err := Encode(reg)
	if err != nil || !strings.Contains(string(b), `"version": 2`) {
		t.Fatalf("%s %v", b, err)
	}
	back, err := Decode("r.yaml", []byte("version: 1\n"))
	if err != nil || back.Version != 1 {
		t.Fatalf("version 1 not read: %v", err)
	}
}

// One project's claims on one port on 127.0.0.1 and ::1 are no conflict.
func TestCheckDisjointOwnClaims(t *testing.T) {
	reg := New()
	a := PortRequest{Service: "web", Role: "web", Target: 80, HostIP: "127.0.0.1", Port: 8080, Protocol: "tcp"}
	b := a
	b.HostIP, b.Index = "::1", 1
	if _, err := Reconcile(reg, req("a", a, b), nil, nil); err != nil {
		t.Fatal(err)
	}
	if c := Check(reg, nil); len(c) != 0 {
		t.Fatalf("conflicts: %v", c)
	}
}

func TestUnreadableRegistryIsUnsafe(t *testing.T) {
	dir := t.TempDir()
	s := &Store{Path: dir} // a directory where the file should be
	var ue *UnsafeError
	if _, err := s.Load(); !errors.As(err, &ue) {
		t.Fatalf("got %v", err)
	}
}
