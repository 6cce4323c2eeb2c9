package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHosts is an in-memory HostRunner: Start records the spec and marks
// the service running (or exited, for those in exit).
type fakeHosts struct {
	mu      sync.Mutex
	specs   map[string]HostSpec
	states  map[string]HostState
	calls   []string
	exit    map[string]bool
	logs    string
	nextPID int
	// onStart runs as a service starts (before it is recorded).
	onStart func(HostSpec)
}

func newFakeHosts(t *testing.T) *fakeHosts {
	return &fakeHosts{specs: map[string]HostSpec{}, states: map[string]HostState{}, exit: map[string]bool{}, logs: t.TempDir(), nextPID: 1000}
}

func (f *fakeHosts) Start(_ context.Context, s HostSpec) (HostState, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.states[s.Name]; ok && st.Running && st.Hash == s.Hash {
		return st, true, nil
	}
	f.calls = append(f.calls, "start "+s.Name)
	if f.onStart != nil {
		f.onStart(s)
	}
	f.nextPID++
	st := HostState{PID: f.nextPID, ProjectDir: s.ProjectDir, Hash: s.Hash, Status: "running", Running: true, StartedAt: time.Now()}
	if f.exit[s.Name] {
		st.Status, st.Running, st.ExitCode = "exited", false, 7
		os.WriteFile(f.LogPath(s.Project, s.Name), []byte("cannot start\n"), 0o600)
	}
	f.specs[s.Name], f.states[s.Name] = s, st
	return st, false, nil
}

func (f *fakeHosts) Stop(_ context.Context, _, name string, _ time.Duration, _ string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.states[name]; ok {
		f.calls = append(f.calls, "stop "+name)
	}
	delete(f.states, name)
	return false, nil
}

func (f *fakeHosts) Status(_, name string) (HostState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.states[name]
	return st, ok && st.Running
}

func (f *fakeHosts) Names(string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.states {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (f *fakeHosts) LogPath(project, name string) string { return filepath.Join(f.logs, name+".log") }
func (f *fakeHosts) Processes(_, name string) [][]string {
	return [][]string{{"0", "1", "0", "-", "-", "-", "-", name}}
}

func (f *fakeHosts) Signal(_, name, signal string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "signal "+name+" "+signal)
	return nil
}

func (f *fakeHosts) Owns(_ string, pid int) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, st := range f.states {
		if st.PID == pid {
			return name, true
		}
	}
	return "", false
}

// listen serves TCP on a free loopback port, standing in for a host
// service's process.
func listen(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func hostStack(be, fe int) string {
	return fmt.Sprintf(`name: demo
x-devenv:
  host:
    backend:
      port: %d
      command: mix phx.server
      env: {DATABASE_URL: "ecto://localhost:{db}/app"}
      depends_on: {db: {condition: service_healthy}}
    frontend:
      port: %d
      command: ["npm", "run", "dev", "--", "--port", "{frontend}"]
      depends_on: [backend]
      restart: on-failure
services:
  db:
    image: postgres:15
    ports: ["5434:5432"]
    healthcheck: {test: ["CMD", "pg_isready"]}
`, be, fe)
}

func TestUpRunsHostServicesAfterTheirDependencies(t *testing.T) {
	be, fe := listen(t), listen(t)
	b := newBed(t, hostStack(be, fe))
	hosts := newFakeHosts(t)
	b.o.Hosts = hosts
	res := b.mustUp(UpOptions{})
	if !slices.Equal(hosts.calls, []string{"start backend", "start frontend"}) {
		t.Fatalf("calls %v", hosts.calls)
	}
	spec := hosts.specs["backend"]
	if !slices.Equal(spec.Args, []string{"/bin/sh", "-c", "mix phx.server"}) || !slices.Contains(spec.Env, fmt.Sprintf("PORT=%d", be)) || !slices.Contains(spec.Env, "DATABASE_URL=ecto://localhost:5434/app") || spec.Dir != b.dir {
		t.Fatalf("backend spec %+v", spec)
	}
	if got := hosts.specs["frontend"].Args; got[len(got)-1] != fmt.Sprint(fe) {
		t.Fatalf("frontend args %v", got)
	}
	if db := b.container("demo-db-1"); db.HealthCmds == 0 {
		t.Fatal("backend started before db was checked healthy")
	}
	_ = res
	// Unchanged: kept; the plan says so.
	res = b.mustUp(UpOptions{DryRun: true})
	if !strings.Contains(res.Plan.String(), "keep host backend") {
		t.Fatalf("plan:\n%s", res.Plan)
	}
	b.mustUp(UpOptions{})
	if len(hosts.calls) != 2 {
		t.Fatalf("an unchanged up restarted: %v", hosts.calls)
	}
	// Services only: the host services are left alone.
	b.mustUp(UpOptions{Services: []string{"db"}})
	if len(hosts.calls) != 2 {
		t.Fatalf("up db touched host services: %v", hosts.calls)
	}
	// Naming a host service brings what it depends on.
	if err := b.o.Stop(t.Context(), b.project(), StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(hosts.calls, "stop backend") || !slices.Contains(hosts.calls, "stop frontend") {
		t.Fatalf("stop: %v", hosts.calls)
	}
	b.mustUp(UpOptions{Services: []string{"frontend"}})
	if st, ok := hosts.Status("demo", "backend"); !ok || !st.Running || b.container("demo-db-1").State != "running" {
		t.Fatal("up frontend did not bring its dependencies")
	}
	if err := b.o.Restart(t.Context(), b.project(), StopOptions{Services: []string{"backend"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.o.Down(t.Context(), b.project(), DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(hosts.Names("demo")) != 0 {
		t.Fatalf("host services left after down: %v", hosts.Names("demo"))
	}
}

func TestUpHostServiceFailures(t *testing.T) {
	be, fe := listen(t), listen(t)
	b := newBed(t, hostStack(be, fe))
	hosts := newFakeHosts(t)
	hosts.exit["backend"] = true
	b.o.Hosts = hosts
	_, err := b.up(UpOptions{})
	var se *ServiceError
	if !errorsAs(err, &se) || se.Service != "backend" || se.ExitCode != 7 || !strings.Contains(se.Logs, "cannot start") {
		t.Fatalf("got %v", err)
	}
	if slices.Contains(hosts.calls, "start frontend") {
		t.Fatal("frontend started although backend failed")
	}
	// Nothing listens: never healthy within the timeout.
	b2 := newBed(t, hostStack(1, 2))
	b2.o.Hosts = newFakeHosts(t)
	if _, err := b2.up(UpOptions{WaitTimeout: 300 * time.Millisecond}); !errorsAs(err, &se) || !strings.Contains(se.Error(), "did not become healthy") {
		t.Fatalf("got %v", err)
	}
	// Where host services cannot run, a command is a configuration error.
	b3 := newBed(t, hostStack(be, fe))
	if _, err := b3.up(UpOptions{}); err == nil || !strings.Contains(err.Error(), "cannot run host services") {
		t.Fatalf("got %v", err)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestPlural(t *testing.T) {
	if plural(1, "project") != "1 project" || plural(2, "project") != "2 projects" || plural(0, "project") != "0 projects" {
		t.Fatal(plural(1, "project"), plural(2, "project"))
	}
}

// A same-named project in another directory leaves this one's host
// services alone; only their own directory's commands touch them.
func TestHostServicesOfAnotherDirectoryAreRefused(t *testing.T) {
	be, fe := listen(t), listen(t)
	b := newBed(t, hostStack(be, fe))
	hosts := newFakeHosts(t)
	b.o.Hosts = hosts
	b.mustUp(UpOptions{})
	other := newBed(t, hostStack(be, fe))
	other.o.Hosts = hosts // the same machine's supervisors
	var wd *WrongDirError
	for name, verb := range map[string]func() error{
		"down": func() error { return other.o.Down(t.Context(), other.project(), DownOptions{}) },
		"stop": func() error { return other.o.Stop(t.Context(), other.project(), StopOptions{}) },
		"stop backend": func() error {
			return other.o.Stop(t.Context(), other.project(), StopOptions{Services: []string{"backend"}})
		},
		"restart": func() error {
			return other.o.Restart(t.Context(), other.project(), StopOptions{Services: []string{"backend"}})
		},
		"kill": func() error {
			return other.o.Kill(t.Context(), other.project(), KillOptions{Services: []string{"backend"}})
		},
	} {
		if err := verb(); !errors.As(err, &wd) || !strings.Contains(err.Error(), "host service") || !strings.Contains(err.Error(), b.dir) {
			t.Errorf("%s in another directory: %v", name, err)
		}
	}
	if slices.Contains(hosts.calls, "stop backend") || slices.Contains(hosts.calls, "stop frontend") {
		t.Fatalf("the other directory's commands stopped this project's host services: %v", hosts.calls)
	}
	// Its ps shows none of them as its orphans.
	res, err := other.o.Ps(t.Context(), other.project(), PsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Host {
		if h.Orphan {
			t.Fatalf("another directory's host service shown as an orphan: %+v", h)
		}
	}
}

// A host service removed from the file is an orphan: up warns and plans
// it, ps shows it, its port stays held, and up --remove-orphans stops it
// before anything starts.
func TestOrphanHostServices(t *testing.T) {
	be, fe := listen(t), listen(t)
	b := newBed(t, hostStack(be, fe))
	hosts := newFakeHosts(t)
	b.o.Hosts = hosts
	b.mustUp(UpOptions{})
	b.write(strings.Replace(hostStack(be, fe), "    frontend:\n      port: "+itoa(fe)+"\n      command: [\"npm\", \"run\", \"dev\", \"--\", \"--port\", \"{frontend}\"]\n      depends_on: [backend]\n      restart: on-failure\n", "", 1))
	if _, ok := b.project().X.Host["frontend"]; ok {
		t.Fatal("the test's file still declares frontend")
	}
	res := b.mustUp(UpOptions{DryRun: true})
	if !strings.Contains(res.Plan.String(), "orphan frontend") {
		t.Fatalf("plan: %s", res.Plan)
	}
	b.mustUp(UpOptions{})
	if !b.rec.has("Warning", "orphan host service frontend") {
		t.Fatalf("no warning: %v", b.rec.events)
	}
	ps, err := b.o.Ps(t.Context(), b.project(), PsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ps.Host, func(h HostStatus) bool { return h.Service == "frontend" && h.Orphan }) {
		t.Fatalf("ps: %+v", ps.Host)
	}
	// Its process holds its port as an orphan container's does.
	pid := hosts.states["frontend"].PID
	holders := func(opts PortOptions) bool { return b.o.ownProcess(b.project(), opts)(pid) }
	if holders(PortOptions{}) || !holders(PortOptions{RemoveOrphans: true}) {
		t.Fatal("an orphan host service's process counted as the project's own")
	}
	b.mustUp(UpOptions{RemoveOrphans: true})
	if !slices.Contains(hosts.calls, "stop frontend") {
		t.Fatalf("--remove-orphans did not stop it: %v", hosts.calls)
	}
}

// ps lists host services as it lists containers: the running ones, all
// with -a, those in the states asked for with --status.
func TestPsFiltersHostServicesByState(t *testing.T) {
	be, fe := listen(t), listen(t)
	b := newBed(t, hostStack(be, fe))
	b.o.Hosts = newFakeHosts(t)
	b.mustUp(UpOptions{})
	if err := b.o.Stop(t.Context(), b.project(), StopOptions{Services: []string{"frontend"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opts PsOptions
		want []string
	}{
		{PsOptions{}, []string{"backend"}},
		{PsOptions{All: true}, []string{"backend", "frontend"}},
		{PsOptions{Status: []string{"exited"}}, []string{"frontend"}},
		{PsOptions{Status: []string{"paused"}}, nil},
	} {
		res, err := b.o.Ps(t.Context(), b.project(), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range res.Host {
			got = append(got, h.Service)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ps %+v: host services %v, want %v", c.opts, got, c.want)
		}
	}
}

// A step that fails keeps what comes after it from running, and each step
// kept from running is said: nothing is left in place silently.
func TestFailedStepSaysWhatItSkipped(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.eng.Fail["stop demo-db-1"] = errors.New("boom")
	err := b.o.Down(t.Context(), b.project(), DownOptions{})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("down: %v", err)
	}
	if !b.rec.has("Skipped", "remove network: a step before it failed") || b.eng.ByName("demo-db-1") == nil {
		t.Fatalf("events %v", b.rec.events)
	}
}
