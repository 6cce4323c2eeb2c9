package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
)

func TestNormalizeArgs(t *testing.T) {
	app := newApp(&app{})
	cases := []struct{ in, want string }{
		{"devenv up", "devenv up"},
		{"devenv -f x.yml up", "devenv -f x.yml up"},
		{"devenv up -f x.yml", "devenv -f x.yml up"},
		{"devenv up db --no-wait -p proj", "devenv -p proj up --no-wait -- db"},
		{"devenv up --wait-timeout 5s db redis", "devenv up --wait-timeout 5s -- db redis"},
		{"devenv logs -f db", "devenv logs -f -- db"},
		{"devenv logs --file x.yml -f", "devenv --file x.yml logs -f"},
		{"devenv ports why 5432 --format json", "devenv ports why --format json -- 5432"},
		{"devenv ports assign -f a.yml --reassign db", "devenv -f a.yml ports assign --reassign -- db"},
		{"devenv --registry r.yaml ports check", "devenv --registry r.yaml ports check"},
		{"devenv down -v -t 3 --env-file=.env.dev", "devenv --env-file=.env.dev down -v -t 3"},
		// exec and run: what follows the service is the command's own.
		{"devenv exec -T db psql -U app -f q.sql", "devenv exec -T -- db psql -U app -f q.sql"},
		{"devenv exec -f x.yml -e A=1 db ls -l", "devenv -f x.yml exec -e A=1 -- db ls -l"},
		{"devenv run --rm -p 8080:80 web sh -c -- x", "devenv run --rm -p 8080:80 -- web sh -c -- x"},
		{"devenv run -- web --help", "devenv run -- web --help"},
		{"devenv exec -it db bash", "devenv exec -i -t -- db bash"},
		{"devenv exec -u -Td db ls", "devenv exec -u -Td -- db ls"},
		{"devenv run --rm -it web sh", "devenv run --rm -i -t -- web sh"},
		{"devenv exec -Tu postgres db psql -U x", "devenv exec -T -u postgres -- db psql -U x"},
	}
	for _, c := range cases {
		line, _ := normalizeArgs(app, strings.Fields(c.in))
		got := strings.Join(line, " ")
		if got != c.want {
			t.Errorf("%q → %q, want %q", c.in, got, c.want)
		}
	}
}

func TestGlobalFlagsBeforeAndAfterMeanTheSame(t *testing.T) {
	h := newHarness(t)
	h.write("a.yml", "name: from-a\nservices:\n  web:\n    image: alpine:3.20\n    ports: [\"8123:80\"]\n")
	before := h.run("-f", "a.yml", "config", "--format", "json")
	after := h.run("config", "--format", "json", "-f", "a.yml")
	if before.code != 0 || before.stdout != after.stdout || !strings.Contains(before.stdout, `"name": "from-a"`) {
		t.Fatalf("before:\n%s\nafter:\n%s", before, after)
	}
}

func TestHelpHasAnExampleForEveryCommand(t *testing.T) {
	a := &app{}
	for _, c := range newApp(a).Commands {
		if c.Hidden {
			continue
		}
		if !strings.Contains(c.UsageText, "devenv "+c.Name) {
			t.Errorf("%s: no example in its help", c.Name)
		}
		for _, s := range c.Subcommands {
			if !strings.Contains(s.UsageText, "devenv "+c.Name+" "+s.Name) {
				t.Errorf("%s %s: no example in its help", c.Name, s.Name)
			}
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"devenv", "up", "--help"}, nil, nil, &out, &out); code != 0 || !strings.Contains(out.String(), "--strict-ports") {
		t.Fatalf("up --help: %d\n%s", code, out.String())
	}
}

func TestExitCodes(t *testing.T) {
	if got := exitCode(context.Background(), nil); got != 0 {
		t.Errorf("nil: %d", got)
	}
	if got := exitCode(context.Background(), orchestrator.ErrEngineUnreachable); got != 4 {
		t.Errorf("engine: %d", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := exitCode(ctx, context.Canceled); got != 130 {
		t.Errorf("interrupted: %d", got)
	}
	if got := exitCode(context.Background(), usagef("x")); got != 2 {
		t.Errorf("usage: %d", got)
	}
}

func TestPlainAndJSONProgress(t *testing.T) {
	var buf bytes.Buffer
	secrets := []string{"hunter2-secret"}
	p := &plainRenderer{w: &buf, secrets: &secrets}
	p.Event(orchestrator.Event{Service: "db", Name: "demo-db-1", Status: "Started"})
	p.Event(orchestrator.Event{Service: "db", Status: "Warning", Detail: "password hunter2-secret", Level: orchestrator.Warn})
	if got := buf.String(); got != "db (demo-db-1) Started\ndb Warning password ****\n" {
		t.Fatalf("plain:\n%q", got)
	}
	buf.Reset()
	j := &jsonRenderer{w: &buf, secrets: &secrets}
	j.Event(orchestrator.Event{Service: "db", Status: "Healthy"})
	if !strings.Contains(buf.String(), `"service":"db","status":"Healthy","level":"info"`) {
		t.Fatalf("json: %s", buf.String())
	}
	// NO_COLOR and non-terminals get no escape codes.
	a := &app{stderr: &buf, env: env{"NO_COLOR": "1"}, progress: "auto"}
	if _, ok := a.reporter().(*plainRenderer); !ok {
		t.Fatal("a buffer must get the plain renderer")
	}
}

func TestTTYProgressRedrawsInPlace(t *testing.T) {
	var buf syncBuffer
	secrets := []string{}
	r := newTTYRenderer(&buf, false, &secrets)
	r.Event(orchestrator.Event{Service: "db", Status: "Starting"})
	r.Event(orchestrator.Event{Service: "redis", Status: "Starting"})
	r.Event(orchestrator.Event{Service: "db", Status: "Healthy"})
	r.Close()
	out := buf.String()
	if !strings.Contains(out, "\x1b[2A") || !strings.Contains(out, "db Healthy") || strings.Contains(out, "\x1b[32m") {
		t.Fatalf("tty output:\n%q", out)
	}
}

func TestPlainTCPEngineWarns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	// 192.0.2.0/24 is reserved for documentation: nothing answers there.
	run(ctx, []string{"devenv", "version"}, []string{"DOCKER_HOST=tcp://192.0.2.1:2375", "HOME=" + t.TempDir()}, nil, &out, &errb)
	if !strings.Contains(errb.String(), "plain TCP without TLS") {
		t.Fatalf("no warning for a plain tcp:// engine:\n%s", errb.String())
	}
}

func TestParseWaitTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"120": 2 * time.Minute, "5": 5 * time.Second, "90s": 90 * time.Second, "2m": 2 * time.Minute} {
		if got, err := parseWaitTimeout(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-3", "soon", ""} {
		if _, err := parseWaitTimeout(in); err == nil || exitCode(context.Background(), err) != exitUsage {
			t.Errorf("%q accepted: %v", in, err)
		}
	}
}

// The first Ctrl-C cancels the command; a second one ends the process.
func TestSecondInterruptExits(t *testing.T) {
	exited := make(chan int, 1)
	ctx, stop := interrupts(func(code int) { exited <- code })
	defer stop()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first interrupt did not cancel")
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case code := <-exited:
		if code != exitInterrupted {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second interrupt did not end the process")
	}
}

func TestNegativeTimeoutIsAUsageError(t *testing.T) {
	for _, cmd := range []string{"down", "stop", "restart"} {
		var out, errb bytes.Buffer
		code := runIn(context.Background(), t.TempDir(), []string{"devenv", cmd, "-t", "-5"}, []string{"HOME=" + t.TempDir()}, nil, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), "--timeout -5") {
			t.Errorf("%s -t -5: exit %d %s", cmd, code, errb.String())
		}
	}
}

func TestSignalName(t *testing.T) {
	for in, want := range map[string]string{"SIGHUP": "SIGHUP", "hup": "SIGHUP", "TERM": "SIGTERM", "9": "9"} {
		if got, err := signalName(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if _, err := signalName("SIG NOPE;"); err == nil {
		t.Error("a malformed signal name was accepted")
	}
}

func TestWriteTemplate(t *testing.T) {
	rows := []psRow{{Name: "demo-db-1", Status: "Up 2 minutes"}, {Name: "demo-api-1", Status: "Exited (1)"}}
	var out bytes.Buffer
	if err := writeTemplate(&out, `{{.Name}}: {{.Status}}`, rows); err != nil || out.String() != "demo-db-1: Up 2 minutes\ndemo-api-1: Exited (1)\n" {
		t.Fatalf("%q %v", out.String(), err)
	}
	out.Reset()
	if err := writeTemplate(&out, `table {{.Name}}\t{{.Status}}`, rows); err != nil || !strings.HasPrefix(out.String(), "NAME         STATUS\n") {
		t.Fatalf("%q %v", out.String(), err)
	}
	if err := writeTemplate(&out, `{{.Nope}}`, rows); err == nil {
		t.Fatal("a template naming a missing field was accepted")
	}
}

func TestShortFlagClusters(t *testing.T) {
	app := parityApp()
	for in, want := range map[string]string{
		"devenv rm -fsv web":     "devenv rm -f -s -v -- web",
		"devenv ps -aq":          "devenv ps -a -q",
		"devenv logs -n5 db":     "devenv logs -n 5 -- db",
		"devenv kill -sKILL":     "devenv kill -s KILL",
		"devenv version -f json": "devenv version -f json",
	} {
		line, _ := normalizeArgs(app, strings.Fields(in))
		if got := strings.Join(line, " "); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// Every help page fits 80 columns, shows no empty defaults, has its
// examples under their own heading and says where more help is.
func TestHelpPages(t *testing.T) {
	var pages [][]string
	app := newApp(&app{})
	pages = append(pages, []string{"--help"})
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		pages = append(pages, []string{c.Name, "--help"})
		for _, s := range c.Subcommands {
			pages = append(pages, []string{c.Name, s.Name, "--help"})
		}
	}
	for _, args := range pages {
		h := &harness{t: t, dir: t.TempDir()}
		r := h.run(args...)
		name := strings.Join(args, " ")
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%s: %s", name, r)
			continue
		}
		for _, line := range strings.Split(r.stdout, "\n") {
			if len(line) > 80 {
				t.Errorf("%s: a line of %d columns: %q", name, len(line), line)
			}
		}
		if doubled := regexp.MustCompile(`\(default:[^)]*\)\s+\(default:`); doubled.MatchString(strings.Join(strings.Fields(r.stdout), " ")) {
			t.Errorf("%s: a default said twice", name)
		}
		for _, bad := range []string{"(default: false)", "(default: -1)", "\nNAME:\n", "GLOBAL OPTIONS:"} {
			if strings.Contains(r.stdout, bad) {
				t.Errorf("%s: %q in\n%s", name, bad, r.stdout)
			}
		}
		want := []string{"Usage:  devenv", "Run 'devenv"}
		if len(args) > 1 {
			want = []string{"Usage:  devenv " + strings.Join(args[:len(args)-1], " "), "Examples:\n  ", "--help' for more"}
			if !strings.Contains(r.stdout, "\nCommands:\n") {
				want[2] = "see 'devenv --help'"
			}
		}
		for _, w := range want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s: %q missing from\n%s", name, w, r.stdout)
			}
		}
	}
	// The groups, in order.
	r := (&harness{t: t, dir: t.TempDir()}).run("help")
	last := -1
	for _, g := range []string{"Lifecycle:", "Inspect:", "Ports, names and env:", "Everyday:", "Setup:"} {
		i := strings.Index(r.stdout, g)
		if i < last {
			t.Fatalf("group %s missing or out of order:\n%s", g, r.stdout)
		}
		last = i
	}
}
