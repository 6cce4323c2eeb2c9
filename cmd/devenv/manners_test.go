package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noEngine is a harness whose engine cannot be reached: every case below
// runs on a machine with only Go.
func noEngine(t *testing.T) *harness {
	h := newHarness(t)
	var env []string
	for _, kv := range h.env {
		if !strings.HasPrefix(kv, "DOCKER_HOST=") {
			env = append(env, kv)
		}
	}
	h.env = append(env, "DOCKER_HOST=unix:///nonexistent/docker.sock")
	h.write("docker-compose.dev.yml", "name: manners\nservices:\n  postgres:\n    image: postgres:15\n    ports: [\"45911:5432\"]\n  api:\n    image: demo/api\n    depends_on: [postgres]\n  web:\n    image: nginx\n")
	return h
}

// Each bullet of the command line's manners: argv in, exit code and
// message out, without an engine.
func TestCommandLineManners(t *testing.T) {
	h := noEngine(t)
	cases := []struct {
		args       []string
		code       int
		out, errIn string // substrings of stdout and stderr
		errNot     string // never in stderr
	}{
		// A flag missing its value is exit 2 naming it, never help and 0.
		{[]string{"up", "-f"}, 2, "", "flag -f needs a value", ""},
		{[]string{"config", "-p"}, 2, "", "flag -p needs a value", ""},
		{[]string{"-f"}, 2, "", "flag -f needs a value", ""},
		// help, --help anywhere, --version and -v before the command.
		{[]string{"help"}, 0, "Lifecycle:", "", ""},
		{[]string{"help", "up"}, 0, "Usage:  devenv up", "", ""},
		{[]string{"help", "help"}, 0, "Lifecycle:", "", ""},
		{[]string{"ui", "--listen", "0.0.0.0:7780"}, 2, "", "ui --listen \"0.0.0.0:7780\": the dashboard listens on loopback only", ""},
		{[]string{"ui", "--listen", "7780"}, 2, "", "use a loopback ADDR:PORT", ""},
		{[]string{"ui", "--read-only"}, 2, "", "ui --read-only: serve a read-only dashboard with --listen", ""},
		{[]string{"ui", "now"}, 2, "", "ui takes no arguments", ""},
		{[]string{"down", "--help"}, 0, "  devenv down                  # keeps", "", ""},
		{[]string{"--project-directory", "/etc/hosts", "config"}, 2, "", "/etc/hosts: --project-directory: a file, not a directory", ""},
		{[]string{"-f", "nope.yml", "config"}, 2, "", "nope.yml: no such compose file", ""},
		{[]string{"rm", "-v", "--help"}, 0, "Usage:  devenv rm", "", ""},
		{[]string{"ports", "help", "check"}, 0, "Usage:  devenv ports check", "", ""},
		{[]string{"up", "postgres", "--help"}, 0, "Usage:  devenv up", "", "No help topic"},
		{[]string{"down", "-v", "--help"}, 0, "Usage:  devenv down", "", ""},
		{[]string{"--version"}, 0, "devenv version", "", ""},
		{[]string{"-v"}, 0, "devenv version", "", ""},
		{[]string{"-f", "docker-compose.dev.yml", "--version"}, 0, "devenv version", "", ""},
		// Did you mean: commands, subcommands (before any engine), services.
		{[]string{"upp"}, 2, "", `did you mean "up"`, ""},
		{[]string{"dwon"}, 2, "", `did you mean "down"`, ""},
		{[]string{"conifg"}, 2, "", `did you mean "config"`, ""},
		{[]string{"ports", "chek"}, 2, "", `did you mean "check"`, "unreachable"},
		{[]string{"up", "postgress"}, 2, "", "no such service: postgress (did you mean postgres?)", "unreachable"},
		{[]string{"ps", "--formt", "json"}, 2, "", "unknown flag --formt; did you mean --format?", "not defined"},
		{[]string{"up", "--bogus"}, 2, "", "up: unknown flag --bogus", "flag provided but not defined"},
		// config SERVICE... as compose's; an unknown one is exit 2.
		{[]string{"config", "--services", "api"}, 0, "api\npostgres\n", "", ""},
		{[]string{"config", "nosuch"}, 2, "", "no such service: nosuch", ""},
		// Paths named as given.
		{[]string{"--project-directory", "/nope", "config"}, 2, "", "/nope: --project-directory: no such directory", ""},
		{[]string{"-f", "/tmp", "config"}, 2, "", "/tmp: is a directory, not a compose file", "read  is a directory"},
		{[]string{"--env-file", "/tmp", "config"}, 2, "", "/tmp: --env-file: is a directory", ""},
		// Without an engine: what the registry and sockets can answer.
		{[]string{"port", "postgres", "5432"}, 0, "127.0.0.1:45911", "containers were not checked", ""},
		{[]string{"ports"}, 0, "PROJECT", "containers were not checked", ""},
		{[]string{"ports", "check"}, 4, "containers not checked", "containers were not checked", ""},
		{[]string{"version"}, 4, "devenv ", "unreachable", ""},
		{[]string{"doctor"}, 1, "SKIPPED", "", ""},
	}
	for _, c := range cases {
		r := h.run(c.args...)
		if r.code != c.code || !strings.Contains(r.stdout, c.out) || !strings.Contains(r.stderr, c.errIn) || (c.errNot != "" && strings.Contains(r.stderr, c.errNot)) {
			t.Errorf("devenv %s: want exit %d, %q out, %q err: %s", strings.Join(c.args, " "), c.code, c.out, c.errIn, r)
		}
	}
	// The config of one service and its dependencies only.
	if r := h.must("config", "api"); strings.Contains(r.stdout, "web:") || !strings.Contains(r.stdout, "postgres:") {
		t.Errorf("config api:\n%s", r.stdout)
	}
}

// No raw library text: YAML errors as FILE:LINE:COL, compose-go's log
// lines once and devenv's way.
func TestLibraryTextIsSaidDevenvsWay(t *testing.T) {
	h := noEngine(t)
	file := h.write("docker-compose.dev.yml", "services:\n  db:\n    image: x\n   bad: [\n")
	r := h.run("config")
	if r.code != 2 || !strings.Contains(r.stderr, file+":4:4: did not find expected key") || strings.Contains(r.stderr, "while parsing") || strings.Contains(r.stderr, "L2.C3") {
		t.Errorf("a YAML error: %s", r)
	}
	h.write("docker-compose.dev.yml", "services:\n  db:\n    image: x\n    ports: [\"1:1\"\n")
	if r := h.run("config"); r.code != 2 || !strings.Contains(r.stderr, file+":4:12:") || !strings.Contains(r.stderr, "not closed") {
		t.Errorf("an unclosed list: %s", r)
	}
	h.write("docker-compose.dev.yml", "services:\n\tdb:\n    image: x\n")
	if r := h.run("config"); r.code != 2 || !strings.Contains(r.stderr, file+":2:1:") || !strings.Contains(r.stderr, "tabs cannot indent YAML") {
		t.Errorf("a tab: %s", r)
	}
	h.write("docker-compose.dev.yml", "version: \"3\"\nservices:\n  db:\n    image: x\n")
	r = h.run("config", "-q")
	if r.code != 0 || strings.Contains(r.stderr, "level=") || strings.Count(r.stderr, "is obsolete") != 1 || !strings.HasPrefix(r.stderr, "devenv: warning: ") {
		t.Errorf("compose-go's warning: %s", r)
	}
}

// In each directory going up: devenv's file, then compose's names; the
// nearest directory with any of them wins.
func TestFileDiscoveryNearestDirectoryWins(t *testing.T) {
	h := noEngine(t)
	h.write("docker-compose.dev.yml", "name: parent\nservices:\n  p: {image: x}\n")
	h.write("child/compose.yaml", "name: child\nservices:\n  c: {image: x}\n")
	h.write("child/compose.override.yaml", "services:\n  o: {image: x}\n")
	h.write("child/deeper/.keep", "")
	for _, dir := range []string{"child", "child/deeper"} {
		env := append(append([]string{}, h.env...), "PWD="+filepath.Join(h.dir, dir))
		r := (&harness{t: t, dir: filepath.Join(h.dir, dir), env: env}).run("config", "--services")
		if r.code != 0 || r.stdout != "c\no\n" {
			t.Errorf("from %s: %s", dir, r)
		}
	}
	if r := h.must("config", "--services"); r.stdout != "p\n" {
		t.Errorf("from the parent: %s", r)
	}
	// devenv's file beside compose's wins in its directory.
	h.write("child/docker-compose.dev.yml", "name: childdev\nservices:\n  d: {image: x}\n")
	env := append(append([]string{}, h.env...), "PWD="+filepath.Join(h.dir, "child"))
	if r := (&harness{t: t, dir: filepath.Join(h.dir, "child"), env: env}).run("config", "--services"); r.stdout != "d\n" {
		t.Errorf("devenv's file first: %s", r)
	}
}

// help never runs what it is asked about; a mistyped topic gets did you
// mean; flags and values where a topic is are ignored.
func TestHelpNeverRunsTheCommand(t *testing.T) {
	h := noEngine(t)
	os.MkdirAll(filepath.Dir(h.registry), 0o700)
	os.WriteFile(h.registry, []byte(`{"version":2,"projects":[{"name":"old","directory":"/gone/old","reservations":[{"service":"db","role":"postgres","target":5432,"port":45914,"protocol":"tcp"}]}]}`), 0o600)
	before, _ := os.ReadFile(h.registry)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help", "ports", "release", "old"}, 0, "Usage:  devenv ports release"},
		{[]string{"help", "down", "postgres"}, 0, "Usage:  devenv down"},
		{[]string{"help", "exec", "postgres", "rm", "-rf", "/"}, 0, "Usage:  devenv exec"},
		{[]string{"help", "up", "postgres"}, 0, "Usage:  devenv up"},
		{[]string{"ports", "help", "why", "5432"}, 0, "Usage:  devenv ports why"},
		{[]string{"help", "ports", "chek"}, 2, `did you mean "check"`},
		{[]string{"help", "upp"}, 2, `did you mean "up"`},
		{[]string{"help", "__version"}, 2, "unknown command"},
		{[]string{"__version", "--help"}, 0, "Usage:  devenv __version"},
		{[]string{"exec", "-w", "-h", "postgres", "ls"}, 4, ""}, // -h is -w's value, not help
		{[]string{"--context", "foo", "ps"}, 2, "unknown flag --context"},
		{[]string{"-H", "tcp://x", "ps"}, 2, "unknown flag -H"},
	} {
		r := h.run(c.args...)
		if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) || strings.Contains(r.stderr, "panic") {
			t.Errorf("devenv %s: want exit %d with %q: %s", strings.Join(c.args, " "), c.code, c.want, r)
		}
	}
	if after, _ := os.ReadFile(h.registry); string(after) != string(before) {
		t.Fatal("help changed the registry")
	}
}

// A YAML error in one of several files names that file.
func TestYAMLErrorNamesTheFileOfSeveral(t *testing.T) {
	h := noEngine(t)
	h.write("ok.yml", "services:\n  db: {image: x}\n")
	bad := h.write("bad.yml", "services:\n  db:\n    image: x\n   oops: [\n")
	r := h.run("-f", "ok.yml", "-f", "bad.yml", "config")
	if r.code != 2 || !strings.Contains(r.stderr, bad+":4:4: did not find expected key") {
		t.Errorf("two files: %s", r)
	}
	h.write("dup.yml", "services:\n  db:\n    image: x\n    image: y\n")
	if r := h.run("-f", "dup.yml", "config"); r.code != 2 || !strings.Contains(r.stderr, "dup.yml:4: mapping key \"image\" already defined at line 3") || strings.Contains(r.stderr, "construct errors") {
		t.Errorf("a duplicate key: %s", r)
	}
	h.write("colon.yml", "services:\n  db:\n    image: x\n    command: echo a: b\n")
	if r := h.run("-f", "colon.yml", "config"); r.code != 2 || !strings.Contains(r.stderr, "colon.yml:4:") || !strings.Contains(r.stderr, "needs quotes") {
		t.Errorf("a colon in a value: %s", r)
	}
}

// config SERVICE as compose's: a profiled service named is enabled; a host
// service gives no compose services; --no-interpolate takes no names.
func TestConfigServicesAsCompose(t *testing.T) {
	h := noEngine(t)
	h.write("docker-compose.dev.yml", "name: m\nx-devenv:\n  host:\n    web: {port: 45990}\nservices:\n  db: {image: postgres:15}\n  debug: {image: busybox, profiles: [tools], depends_on: [db]}\n")
	if r := h.run("config", "--services", "debug"); r.code != 0 || r.stdout != "db\ndebug\n" {
		t.Errorf("config debug (behind a profile): %s", r)
	}
	if r := h.run("config", "--services", "web"); r.code != 0 || r.stdout != "" {
		t.Errorf("config of a host service: %s", r)
	}
	if r := h.run("config", "--no-interpolate", "dbb"); r.code != 2 {
		t.Errorf("config --no-interpolate SERVICE: %s", r)
	}
}

// doctor: a broken compose file is an error finding, not a skipped project;
// without an engine ports why answers what it can and exits 4, ls lists
// the registry's projects with their state unknown.
func TestDoctorAndListingsWithoutAnEngine(t *testing.T) {
	h := noEngine(t)
	h.write("docker-compose.dev.yml", "services:\n  db:\n    image: x\n   bad: [\n")
	r := h.run("doctor")
	if r.code != 1 || !strings.Contains(r.stdout, "ERROR    project") || !strings.Contains(r.stdout, "did not find expected key") {
		t.Errorf("doctor with a broken file: %s", r)
	}
	h.write("docker-compose.dev.yml", "name: listed\nservices:\n  db: {image: postgres:15, ports: [\"45912:5432\"]}\n")
	// A registry entry written as ports assign would (no engine here).
	os.MkdirAll(filepath.Dir(h.registry), 0o700)
	os.WriteFile(h.registry, []byte(`{"version":2,"projects":[{"name":"listed","directory":"`+h.dir+`","reservations":[{"service":"db","role":"postgres","target":5432,"port":45912,"protocol":"tcp"}]}]}`), 0o600)
	if r := h.run("ls", "--format", "json"); r.code != 0 || !strings.Contains(r.stdout, `"Name":"listed","Status":"unknown (engine not reachable)"`) || !strings.Contains(r.stderr, "not checked") {
		t.Errorf("ls without an engine: %s", r)
	}
	if r := h.run("ports", "why", "45913"); r.code != 4 || !strings.Contains(r.stdout, "containers not checked") {
		t.Errorf("ports why of a free port without an engine: %s", r)
	}
	if r := h.run("ports", "why", "45912"); r.code != 0 || !strings.Contains(r.stdout, "reserved by listed") {
		t.Errorf("ports why of a reserved port without an engine: %s", r)
	}
	if r := h.run("ports"); r.code != 0 || !strings.Contains(r.stdout, "free here (engine not probed)") {
		t.Errorf("ports without an engine: %s", r)
	}
}
