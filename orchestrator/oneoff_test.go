package orchestrator

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/errdefs"

	"github.com/devenv-dev/devenv/registry"
)

// run starts the dependencies first, creates the one-off labelled as
// compose labels one-offs, with --rm removes it, and -p ports bind to
// 127.0.0.1 unless reserved elsewhere.
func TestRunOneOff(t *testing.T) {
	b := newBed(t, stackFile)
	res, err := b.o.Run(t.Context(), b.project(), RunOptions{Service: "api", Rm: true, Cmd: []string{"echo", "hi"}})
	if err != nil || res.ExitCode != 0 || !strings.HasPrefix(res.Name, "demo-api-run-") {
		t.Fatalf("run: %+v %v", res, err)
	}
	if b.container("demo-db-1").State != "running" {
		t.Fatal("run did not start its dependency")
	}
	if c := b.eng.ByName(res.Name); c != nil {
		t.Fatalf("run --rm left %s", res.Name)
	}
	// -d: started, kept, its name returned; labelled as a one-off.
	res, err = b.o.Run(t.Context(), b.project(), RunOptions{Service: "api", Detach: true, NoDeps: true, Publish: []string{"18080:80"}})
	if err != nil {
		t.Fatal(err)
	}
	c := b.container(res.Name)
	if c.Labels[LabelOneoff] != "True" || len(c.Spec.Ports) != 1 || c.Spec.Ports[0].HostIP != "127.0.0.1" || c.Spec.Ports[0].HostPort != "18080" {
		t.Fatalf("one-off: labels %v ports %+v", c.Labels, c.Spec.Ports)
	}
	// A -p port another service has reserved is a conflict.
	if _, err := b.o.Run(t.Context(), b.project(), RunOptions{Service: "api", NoDeps: true, Publish: []string{"5434:5432"}}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("run -p on a reserved port: %v", err)
	}
	// An unknown service, a host service: configuration errors.
	if _, err := b.o.Run(t.Context(), b.project(), RunOptions{Service: "nosuch"}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("unknown service: %v", err)
	}
}

// exec runs in the service's running container, -e K takes K from the
// project's environment; a stopped or unknown service is an error.
func TestExecInRunningContainer(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	code, err := b.o.Exec(t.Context(), b.project(), ExecOptions{Service: "db", Spec: ExecSpec{Cmd: []string{"psql", "-c", "select 1"}, Env: []string{"A=1"}}})
	if err != nil || code != 0 || !slices.Contains(b.eng.Calls("exec "), "exec demo-db-1 psql -c select 1") {
		t.Fatalf("exec: %d %v %v", code, err, b.eng.Calls("exec "))
	}
	if err := b.o.Stop(t.Context(), b.project(), StopOptions{Services: []string{"api"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.o.Exec(t.Context(), b.project(), ExecOptions{Service: "api", Spec: ExecSpec{Cmd: []string{"true"}}}); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Fatalf("exec in a stopped service: %v", err)
	}
	if _, err := b.o.Exec(t.Context(), b.project(), ExecOptions{Service: "nosuch", Spec: ExecSpec{Cmd: []string{"true"}}}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("exec in an unknown service: %v", err)
	}
}

// pull: present images are skipped under missing, absent ones pulled; a
// failure names the service unless ignored.
func TestPull(t *testing.T) {
	b := newBed(t, stackFile+"  gone:\n    image: never/there:1\n")
	b.write(strings.Replace(stackFile, "volumes:\n  pgdata:\n", "  gone:\n    image: never/there:1\nvolumes:\n  pgdata:\n", 1))
	b.eng.Pulled["postgres:15"] = "sha256:pg2"
	if err := b.o.Pull(t.Context(), b.project(), PullOptions{Services: []string{"db"}, Policy: "always"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(b.eng.Calls("pull "), "pull postgres:15") {
		t.Fatalf("pull: %v", b.eng.Calls("pull "))
	}
	if err := b.o.Pull(t.Context(), b.project(), PullOptions{Services: []string{"api"}, Policy: "missing"}); err != nil || slices.Contains(b.eng.Calls("pull "), "pull demo/api:dev") {
		t.Fatalf("a present image pulled under missing: %v %v", err, b.eng.Calls("pull "))
	}
	if err := b.o.Pull(t.Context(), b.project(), PullOptions{Services: []string{"gone"}}); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("a failed pull: %v", err)
	}
	if err := b.o.Pull(t.Context(), b.project(), PullOptions{Services: []string{"gone"}, IgnoreFailures: true}); err != nil {
		t.Fatalf("--ignore-pull-failures: %v", err)
	}
}

// doctor: the engine, the registry, exposure and data-loss risks.
func TestDoctorFindings(t *testing.T) {
	b := newBed(t, strings.Replace(stackFile, `ports: ["5434:5432"]`, `ports: ["0.0.0.0:5434:5432"]
    environment: {POSTGRES_PASSWORD: postgres}`, 1))
	b.mustUp(UpOptions{})
	got := b.o.Doctor(t.Context(), b.project(), EngineInfo{ServerVersion: "29.7.2", APIVersion: "1.55", Endpoint: "unix:///var/run/docker.sock", How: "default"}, nil)
	var text []string
	for _, f := range got {
		text = append(text, f.Level+" "+f.Check+" "+f.Message)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"ok engine engine 29.7.2", "all interfaces with a default password", "1 project"} {
		if !strings.Contains(all, want) {
			t.Errorf("doctor does not say %q:\n%s", want, all)
		}
	}
	down := b.o.Doctor(t.Context(), b.project(), EngineInfo{}, errors.New("no engine"))
	if down[0].Level != "error" || down[0].Check != "engine" {
		t.Fatalf("doctor without an engine: %+v", down[0])
	}
}

// port answers before up from the registry; config reads AssignedPorts.
func TestPortAndAssignedPorts(t *testing.T) {
	b := newBed(t, stackFile)
	got, err := b.o.Port(t.Context(), b.project(), "db", 5432, "tcp")
	if err != nil || got != "127.0.0.1:5434" {
		t.Fatalf("port before up: %q %v", got, err)
	}
	ports, err := b.o.AssignedPorts(t.Context(), b.project())
	if err != nil || ports["db"][0] != 5434 || ports["api"][0] != 4000 {
		t.Fatalf("assigned: %v %v", ports, err)
	}
	if _, err := b.o.Port(t.Context(), b.project(), "db", 9999, "tcp"); err == nil {
		t.Fatal("a port the service does not publish")
	}
}
