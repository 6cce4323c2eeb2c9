package registry

import "testing"

func TestHostPort(t *testing.T) {
	p := &Project{Name: "demo", Reservations: []Reservation{
		{Service: "api", Port: 4100, Host: true},
		{Service: "db", Port: 5440},
	}}
	cases := []struct {
		p        *Project
		service  string
		declared int
		want     int
	}{
		{p, "api", 4000, 4100},
		{p, "db", 5432, 5432}, // a container's reservation is not a host service's
		{p, "web", 5173, 5173},
		{nil, "api", 4000, 4000},
	}
	for _, c := range cases {
		if got := c.p.HostPort(c.service, c.declared); got != c.want {
			t.Errorf("HostPort(%s, %d) = %d, want %d", c.service, c.declared, got, c.want)
		}
	}
}
