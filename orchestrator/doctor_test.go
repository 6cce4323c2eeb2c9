package orchestrator

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// doctor's fix for what keeps the env files from being computed follows the
// error's type, however deeply it is wrapped.
func TestEnvFix(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("env files: %w", err) }
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"conflict", wrap(&registry.ConflictError{Project: "demo", Service: "db", Port: 5434, Proto: "tcp"}), "devenv ports why 5434"},
		{"conflict names the service", wrap(&registry.ConflictError{Service: "db", Port: 5434}), "--reassign db"},
		{"registered elsewhere", wrap(&registry.DirError{Name: "demo", Registered: "/a", Dir: "/b"}), "registered for another directory"},
		{"no engine", wrap(ErrEngineUnreachable), "start Docker"},
		{"broken registry", wrap(&registry.ParseError{File: "/r.yaml", Line: 3, Err: errors.New("bad")}), "never overwrites it"},
		{"unsafe registry", wrap(&registry.UnsafeError{File: "/r.yaml", Reason: "is a symlink"}), "never overwrites it"},
		{"bad x-devenv", wrap(&compose.ConfigError{File: "f.yml", Key: "x-devenv.env_files", Msg: "bad"}), "fix the file and key"},
		{"anything else", errors.New("boom"), ""},
	}
	for _, c := range cases {
		got := envFix(c.err)
		if (c.want == "" && got != "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: fix %q, want it to contain %q", c.name, got, c.want)
		}
	}
}
