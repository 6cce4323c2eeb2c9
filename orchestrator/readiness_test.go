package orchestrator

import (
	"strings"
	"testing"
)

func TestHealthCommand(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"CMD", "pg_isready", "-U", "x"}, "pg_isready -U x"},
		{[]string{"CMD-SHELL", "redis-cli ping"}, "/bin/sh -c redis-cli ping"},
		{[]string{"NONE"}, ""},
	} {
		if got := strings.Join(HealthCommand(c.in), " "); got != c.want {
			t.Errorf("%v: %q", c.in, got)
		}
	}
}
