package suggest

import "testing"

func TestClosest(t *testing.T) {
	commands := []string{"up", "down", "config", "ps", "ports", "logs", "start", "stop", "restart", "exec", "run"}
	for _, c := range []struct{ in, want string }{
		{"upp", "up"}, {"dwon", "down"}, {"conifg", "config"}, {"confg", "config"}, {"prots", "ports"},
		{"stpo", "stop"}, {"xyz", ""}, {"restar", "restart"}, {"lgos", "logs"}, {"u", "up"},
	} {
		if got := Closest(c.in, commands); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
	if got := Closest("chek", []string{"check", "assign", "release", "why"}); got != "check" {
		t.Errorf("chek: %q", got)
	}
	if got := Closest("postgress", []string{"postgres", "redis", "electric"}); got != "postgres" {
		t.Errorf("postgress: %q", got)
	}
}
