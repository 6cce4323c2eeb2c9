package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/testbed"
)

// completionProject is a project with compose services (one behind a
// profile) and a host service, and a registry with two projects.
func completionProject(t *testing.T) (dir string, env []string) {
	t.Helper()
	h := newHarness(t)
	h.write("docker-compose.dev.yml", `name: comp
x-devenv:
  host:
    backend: {port: 4999, command: "true"}
services:
  db: {image: postgres:15}
  cache: {image: redis:7}
  tool: {image: postgres:15, profiles: [tools]}
`)
	if err := os.MkdirAll(filepath.Dir(h.registry), 0o700); err != nil {
		t.Fatal(err)
	}
	reg := "version: 2\nprojects:\n  - name: alpha\n    directory: /somewhere/alpha\n  - name: beta\n    directory: /somewhere/beta\n"
	if err := os.WriteFile(h.registry, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildDevenv(t)
	return h.dir, append(h.env, "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
}

func TestComplete(t *testing.T) {
	dir, env := completionProject(t)
	cases := []struct {
		words string
		want  []string
		not   []string
	}{
		{"", []string{"up", "exec", "connect", "completion"}, []string{"__complete", "attach"}},
		{"u", []string{"up", "unpause"}, []string{"down"}},
		{"up ", []string{"backend", "cache", "db", "tool"}, nil},
		{"exec d", []string{"db"}, []string{"cache"}},
		{"exec db ", nil, []string{"db"}},
		{"up --no-", []string{"--no-deps", "--no-wait", "--no-recreate", "--no-attach"}, []string{"--no-trunc"}},
		{"-p ", []string{"alpha", "beta"}, nil},
		{"--progress p", []string{"plain"}, []string{"json"}},
		{"completion ", []string{"bash", "fish", "zsh"}, nil},
		{"ports ", []string{"check", "why"}, nil},
		{"cp ", []string{"db:", "__files"}, nil},
		{"-f ", []string{"__files"}, nil},
		{"logs -f ", []string{"db", "backend"}, []string{"__files"}},
		{"--project-name=a", []string{"--project-name=alpha"}, []string{"alpha"}},
		{"up --attach ", []string{"db", "cache"}, nil},
		{"ports assign ", []string{"db"}, nil},
	}
	for _, c := range cases {
		words := strings.Split(c.words, " ")
		r := runInWith(t, dir, env, append([]string{"devenv", "__complete"}, words...))
		got := strings.Fields(r.stdout)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: %q missing from %v", c.words, w, got)
			}
		}
		for _, w := range c.not {
			if slices.Contains(got, w) {
				t.Errorf("%q: %q should not be offered: %v", c.words, w, got)
			}
		}
	}
}

// TestIntegrationCompletionScripts runs each script in its shell, as a
// user's shell runs it when TAB is pressed. (Named as an integration test
// so that CI fails when a shell is missing instead of skipping.)
func TestIntegrationCompletionScripts(t *testing.T) {
	dir, env := completionProject(t)
	script := func(shell string) string {
		r := runInWith(t, dir, env, []string{"devenv", "completion", shell})
		if r.code != 0 {
			t.Fatalf("completion %s: %s", shell, r)
		}
		p := filepath.Join(t.TempDir(), "devenv."+shell)
		os.WriteFile(p, []byte(r.stdout), 0o644)
		return p
	}
	shells := map[string][]string{
		"bash": {"bash", "-c", `source "$1"; COMP_WORDS=(devenv exec d); COMP_CWORD=2; _devenv; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script("bash")},
		"zsh":  {"zsh", "-f", "-c", `compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break; }; shift; done; print -l -- "$@"; }; _files() { print __FILES__; }; compdef() { :; }; source "$1"; words=(devenv exec d); CURRENT=3; _devenv`, "zsh", script("zsh")},
		"fish": {"fish", "--no-config", "-c", `source $argv[1]; complete -C"devenv exec d"`, script("fish")},
	}
	zshScript := script("zsh")
	for name, argv := range shells {
		t.Run(name, func(t *testing.T) {
			if _, err := exec.LookPath(name); err != nil {
				if testbed.Required() {
					t.Fatalf("%s is not installed (CI installs bash, zsh and fish)", name)
				}
				t.Skipf("%s is not installed, and scripts/test could not install it", name)
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir, cmd.Env = dir, env
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "db" {
				t.Errorf("%s completes `devenv exec d` to %q (%v), want db", name, out, err)
			}
			if name != "zsh" {
				return
			}
			// An empty current word (TAB after a space) in zsh.
			cmd0 := exec.Command("zsh", "-f", "-c", `compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break; }; shift; done; print -l -- "$@"; }; _files() { print __FILES__; }; compdef() { :; }; source "$1"; words=(devenv up ""); CURRENT=3; _devenv`, "zsh", zshScript)
			cmd0.Dir, cmd0.Env = dir, env
			if out, err := cmd0.CombinedOutput(); err != nil || !strings.Contains(string(out), "db") || strings.Contains(string(out), "up") {
				t.Errorf("zsh completes `devenv up ` to %q (%v)", out, err)
			}
		})
	}
	// Files where the shell's own completion is wanted.
	cmd := exec.Command("bash", "-c", `source "$1"; touch "here file.yml"; COMP_WORDS=(devenv -f he); COMP_CWORD=2; _devenv; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script("bash"))
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "here file.yml" {
		t.Errorf("bash completes -f he to %q (%v)", out, err)
	}
}

func runInWith(t *testing.T, dir string, env, args []string) result {
	t.Helper()
	h := &harness{t: t, dir: dir, env: env}
	return h.run(args[1:]...)
}

// BenchmarkCompleteServices times what TAB costs: the devenv binary
// started to list the services of a project (the target is 100 ms).
//
//	go test -run '^$' -bench CompleteServices -benchtime 20x ./cmd/devenv
func BenchmarkCompleteServices(b *testing.B) {
	h := newHarness(b)
	h.write("docker-compose.dev.yml", "name: comp\nservices:\n  db: {image: postgres:15}\n  cache: {image: redis:7}\n")
	dir := h.dir
	bin := buildDevenv(b)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "__complete", "up", "")
		cmd.Dir, cmd.Env = dir, h.env
		if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), "db") {
			b.Fatalf("%v %s", err, out)
		}
	}
}
