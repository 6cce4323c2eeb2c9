package registry

import (
	"errors"
	"testing"
)

// A project's names survive a write and a read.
func TestNamesRoundTrip(t *testing.T) {
	reg := New()
	reg.Projects = []*Project{{Name: "shop", Dir: "/src/shop",
		Reservations: []Reservation{{Service: "web", Role: "vite", Target: 5173, Port: 5174, Protocol: "tcp"}},
		Names:        []Name{{Host: "shop.localhost", Service: "web", Target: 5173}, {Host: "web.shop.localhost", Service: "web", Target: 5173}}}}
	b, err := Encode(reg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode("registry.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	p := back.Find("shop", "")
	if p == nil || len(p.Names) != 2 || p.Names[1].Host != "web.shop.localhost" {
		t.Fatalf("names after a round trip: %+v\n%s", p, b)
	}
	if r, ok := p.Route(p.Names[0]); !ok || r.Port != 5174 {
		t.Fatalf("route: %+v %v", r, ok)
	}
}

// A name another project has is refused, naming that project.
func TestNameTakenByAnotherProject(t *testing.T) {
	reg := New()
	reg.Projects = []*Project{{Name: "shop", Dir: "/src/shop", Names: []Name{{Host: "web.shop.localhost", Service: "web", Target: 80}}}}
	_, err := Reconcile(reg, Request{Project: "other", Dir: "/src/other", Names: []Name{{Host: "web.shop.localhost", Service: "web", Target: 80}}}, nil, nil)
	var taken *NameTakenError
	if !errors.As(err, &taken) || taken.Project != "shop" {
		t.Fatalf("err %v", err)
	}
	if _, err := Reconcile(reg, Request{Project: "shop", Dir: "/src/shop", Names: []Name{{Host: "web.shop.localhost", Service: "web", Target: 80}}}, nil, nil); err != nil {
		t.Fatalf("the project's own name: %v", err)
	}
}
