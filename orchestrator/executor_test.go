package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/errdefs"
	"github.com/devenv-dev/devenv/internal/fakeengine"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/devenv-dev/devenv/orchestrator/plan"
	"github.com/devenv-dev/devenv/orchestrator/sockets"
	"github.com/devenv-dev/devenv/registry"
)

// recorder keeps events for assertions.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Event(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) has(status, detail string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Status == status && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// bed is one project on a fake engine with its own registry.
type bed struct {
	t    *testing.T
	eng  *fakeengine.Engine
	o    *Orchestrator
	rec  *recorder
	dir  string
	reg  string
	file string
}

func newBed(t *testing.T, content string) *bed {
	t.Helper()
	b := &bed{t: t, eng: fakeengine.New(), rec: &recorder{}, dir: t.TempDir()}
	b.reg = filepath.Join(t.TempDir(), "registry.yaml")
	b.eng.AddImage("sha256:pg", "postgres:15")
	b.eng.AddImage("sha256:api", "demo/api:dev")
	b.o = &Orchestrator{Engine: b.eng, Registry: &registry.Store{Path: b.reg, LockTimeout: 5 * time.Second}, Reporter: b.rec, Version: "test"}
	b.write(content)
	return b
}

func (b *bed) write(content string) {
	b.t.Helper()
	b.file = filepath.Join(b.dir, "docker-compose.dev.yml")
	if err := os.WriteFile(b.file, []byte(content), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bed) project(profiles ...string) *compose.Project {
	b.t.Helper()
	p, err := compose.Load(context.Background(), compose.Options{WorkingDir: b.dir, Profiles: profiles, Environ: []string{"PATH=/usr/bin"}})
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

func (b *bed) up(opts UpOptions) (*UpResult, error) {
	b.t.Helper()
	if opts.WaitTimeout == 0 {
		opts.WaitTimeout = 5 * time.Second
	}
	return b.o.Up(b.t.Context(), b.project(), opts)
}

func (b *bed) mustUp(opts UpOptions) *UpResult {
	b.t.Helper()
	res, err := b.up(opts)
	if err != nil {
		b.t.Fatalf("up: %v", err)
	}
	return res
}

func (b *bed) container(name string) *fakeengine.Container {
	b.t.Helper()
	c := b.eng.ByName(name)
	if c == nil {
		b.t.Fatalf("no container %s; calls: %v", name, b.eng.Log)
	}
	return c
}

const stackFile = `name: demo
services:
  db:
    image: postgres:15
    ports: ["5434:5432"]
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck: {test: ["CMD", "pg_isready"], interval: 5s}
  api:
    image: demo/api:dev
    ports: ["4000:4000"]
    depends_on:
      db: {condition: service_healthy}
volumes:
  pgdata:
`

func TestUpCreatesStartsAndKeeps(t *testing.T) {
	b := newBed(t, stackFile)
	res := b.mustUp(UpOptions{})
	if got := res.Plan.String(); !strings.Contains(got, "create db (demo-db-1): new") || !strings.Contains(got, "create network demo_default") {
		t.Fatalf("plan: %s", got)
	}
	starts := b.eng.Calls("start ")
	if !slices.Equal(starts, []string{"start demo-db-1", "start demo-api-1"}) {
		t.Fatalf("api must start after db is healthy: %v", starts)
	}
	db := b.container("demo-db-1")
	if db.State != "running" || db.HealthCmds == 0 {
		t.Fatalf("db: %+v", db)
	}
	if db.Spec.Ports[0].HostIP != "127.0.0.1" || db.Spec.Ports[0].HostPort != "5434" {
		t.Fatalf("db bindings: %+v", db.Spec.Ports)
	}
	// A second up changes nothing.
	before := len(b.eng.Calls("create", "start", "stop", "remove"))
	res = b.mustUp(UpOptions{})
	if got := len(b.eng.Calls("create", "start", "stop", "remove")); got != before {
		t.Fatalf("no-change up touched containers: %v\nplan:\n%s", b.eng.Log, res.Plan)
	}
}

// Item 3: a container another tool made on 0.0.0.0, or with an old host
// port, is recreated with the assigned binding, keeping its volume.
func TestUpRecreatesForeignBindings(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	db := b.container("demo-db-1")
	db.Spec.Ports = []PortBinding{{HostPort: "5434", Target: 5432, Protocol: "tcp"}}
	db.Ports = []PortBinding{{HostIP: "0.0.0.0", HostPort: "5434", Target: 5432, Protocol: "tcp"}, {HostIP: "::", HostPort: "5434", Target: 5432, Protocol: "tcp"}}
	delete(db.Labels, LabelPorts)
	res := b.mustUp(UpOptions{})
	if s, _ := res.Plan.Step("db"); s.Action != ActRecreate || s.Reason != "published ports changed" {
		t.Fatalf("plan: %s", res.Plan)
	}
	db = b.container("demo-db-1")
	if db.Spec.Ports[0].HostIP != "127.0.0.1" {
		t.Fatalf("recreated with %+v", db.Spec.Ports)
	}
	if db.Mounts[0].Source != "demo_pgdata" {
		t.Fatalf("volume lost: %+v", db.Mounts)
	}
	// Stopped, with an old host port: recreated too (the list shows no
	// ports for a stopped container; devenv asks for its bindings).
	db.Spec.Ports = []PortBinding{{HostIP: "127.0.0.1", HostPort: "5432", Target: 5432, Protocol: "tcp"}}
	db.State = "exited"
	res = b.mustUp(UpOptions{})
	if s, _ := res.Plan.Step("db"); s.Action != ActRecreate {
		t.Fatalf("plan: %s", res.Plan)
	}
}

// Item 4 end to end: editing the published port moves the container.
func TestUpFollowsAnEditedPort(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.write(strings.Replace(stackFile, "5434:5432", "5440:5432", 1))
	res := b.mustUp(UpOptions{})
	if got := b.container("demo-db-1").Spec.Ports[0].HostPort; got != "5440" {
		t.Fatalf("db still on %s; plan:\n%s", got, res.Plan)
	}
	if !b.rec.has("Port", "5434 → 5440") {
		t.Fatalf("the change was not reported: %+v", b.rec.events)
	}
}

// Item 5 end to end: one container port published twice keeps both, and a
// second up is not a conflict with itself.
func TestUpOneTargetPublishedTwice(t *testing.T) {
	b := newBed(t, "name: demo\nservices:\n  web:\n    image: demo/api:dev\n    ports: [\"8080:80\", \"8081:80\"]\n")
	b.mustUp(UpOptions{})
	b.mustUp(UpOptions{})
	var got []string
	for _, p := range b.container("demo-web-1").Spec.Ports {
		got = append(got, p.HostPort)
	}
	if strings.Join(got, ",") != "8080,8081" {
		t.Fatalf("bindings %v", got)
	}
}

// Item 6: a digest-pinned image present locally is neither pulled nor the
// container recreated on the next up.
func TestUpDigestPinnedImage(t *testing.T) {
	b := newBed(t, "name: demo\nservices:\n  db:\n    image: postgres@sha256:0123\n")
	b.eng.AddImage("sha256:pinned", "postgres@sha256:0123")
	b.mustUp(UpOptions{})
	b.mustUp(UpOptions{})
	if pulls := b.eng.Calls("pull"); len(pulls) != 0 {
		t.Fatalf("pulled %v", pulls)
	}
	if creates := b.eng.Calls("create "); len(creates) != 1 {
		t.Fatalf("created %v", creates)
	}
}

// Item 8 and the --pull always minor: the service's pull_policy is
// honoured, and a pull that brings the same image recreates nothing.
func TestUpPullPolicy(t *testing.T) {
	b := newBed(t, "name: demo\nservices:\n  db:\n    image: postgres:15\n    pull_policy: always\n")
	b.eng.Pulled["postgres:15"] = "sha256:pg"
	b.mustUp(UpOptions{})
	b.mustUp(UpOptions{})
	if pulls := b.eng.Calls("pull"); len(pulls) != 2 {
		t.Fatalf("pull_policy: always must pull on each up: %v", pulls)
	}
	if creates := b.eng.Calls("create "); len(creates) != 1 {
		t.Fatalf("the same image pulled again recreated the container: %v", b.eng.Log)
	}
	// A new image behind the tag recreates.
	b.eng.Pulled["postgres:15"] = "sha256:pg2"
	res := b.mustUp(UpOptions{})
	if s, _ := res.Plan.Step("db"); s.Action != ActRecreate || s.Reason != "image changed" {
		t.Fatalf("plan after a new image: %s", res.Plan)
	}
	// --pull never wins over the policy.
	b.write("name: demo\nservices:\n  db:\n    image: demo/none:1\n    pull_policy: always\n")
	if _, err := b.up(UpOptions{Pull: "never"}); err == nil || !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("--pull never with a missing image: %v", err)
	}
}

// Item 9: a failed dependency releases its waiters at once.
func TestUpFailedDependencyReleasesChain(t *testing.T) {
	b := newBed(t, `name: demo
services:
  a:
    image: demo/api:dev
  b:
    image: demo/api:dev
    depends_on: {a: {condition: service_started}}
  c:
    image: demo/api:dev
    depends_on: {b: {condition: service_started}}
`)
	b.eng.Fail["start demo-a-1"] = errors.New("boom")
	start := time.Now()
	_, err := b.up(UpOptions{WaitTimeout: 30 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "timed out") || time.Since(start) > 10*time.Second {
		t.Fatalf("waited for the timeout: %v after %s", err, time.Since(start))
	}
}

func TestUpHealthAndExitFailures(t *testing.T) {
	b := newBed(t, stackFile)
	b.eng.Healthy = func(string) bool { return false }
	_, err := b.up(UpOptions{WaitTimeout: 300 * time.Millisecond})
	var se *ServiceError
	if !errors.As(err, &se) || se.Service != "db" || !strings.Contains(se.Error(), "did not become healthy") || !strings.Contains(se.Logs, "log line") {
		t.Fatalf("got %v", err)
	}
	if b.eng.ByName("demo-api-1") != nil && b.eng.ByName("demo-api-1").State == "running" {
		t.Fatal("api started although db never got healthy")
	}
	b2 := newBed(t, "name: demo\nservices:\n  job:\n    image: demo/api:dev\n")
	b2.eng.ExitOnStart["demo-job-1"] = 3
	_, err = b2.up(UpOptions{})
	if !errors.As(err, &se) || !se.Exited || se.ExitCode != 3 {
		t.Fatalf("crash at start: %v", err)
	}
}

func TestUpCompletedSuccessfully(t *testing.T) {
	b := newBed(t, `name: demo
services:
  migrate:
    image: demo/api:dev
  api:
    image: demo/api:dev
    depends_on: {migrate: {condition: service_completed_successfully}}
`)
	b.eng.ExitOnStart["demo-migrate-1"] = 0
	b.mustUp(UpOptions{})
	if b.container("demo-api-1").State != "running" {
		t.Fatal("api not started after migrate completed")
	}
	b.eng.ExitOnStart["demo-migrate-1"] = 2
	_, err := b.up(UpOptions{ForceRecreate: true})
	if err == nil || !strings.Contains(err.Error(), "did not complete successfully") {
		t.Fatalf("got %v", err)
	}
}

// The minor item: an interrupted recreate that left the renamed old
// container is cleaned up by the next up, which keeps the new one.
func TestUpRemovesLeftoverOfInterruptedRecreate(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.eng.AddContainer(Container{Name: "0123456789ab_demo-db-1", State: "exited", Labels: map[string]string{LabelProject: "demo", LabelService: "db", LabelNumber: "1"}})
	res := b.mustUp(UpOptions{})
	if !strings.Contains(res.Plan.String(), "remove leftover db (0123456789ab_demo-db-1)") {
		t.Fatalf("plan: %s", res.Plan)
	}
	if b.eng.ByName("0123456789ab_demo-db-1") != nil || b.container("demo-db-1").State != "running" {
		t.Fatal("leftover kept or new container lost")
	}
}

// A recreate interrupted after the new container exists still removes the
// old one.
func TestRecreateRemovesOldContainerWhenInterrupted(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.eng.StartBlock["demo-db-1"] = true
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for len(b.eng.Calls("start demo-db-1")) < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := b.o.Up(ctx, b.project(), UpOptions{ForceRecreate: true, Services: []string{"db"}, WaitTimeout: 5 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	cs, _ := b.eng.Containers(t.Context(), ListFilter{All: true, Labels: []string{LabelService + "=db"}})
	if len(cs) != 1 || cs[0].Name != "demo-db-1" {
		t.Fatalf("after an interrupted recreate: %+v", cs)
	}
}

// Item 11: the project's own container that the engine is still starting
// holds its port through the engine's proxy; the next up is not a conflict.
func TestUpOwnContainerBeingStartedIsNotAConflict(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	db := b.container("demo-db-1")
	db.State = "created" // the engine has not finished starting it
	b.o.Sockets = func(context.Context, map[int]bool) ([]sockets.Socket, error) {
		return []sockets.Socket{{Port: 5434, Protocol: "tcp", PID: 4242, Command: "docker-proxy -proto tcp -host-port 5434"}}, nil
	}
	if _, err := b.up(UpOptions{}); err != nil {
		t.Fatalf("own port reported as a conflict: %v", err)
	}
	// A stranger on the port is still a conflict, named.
	b.o.Sockets = func(context.Context, map[int]bool) ([]sockets.Socket, error) {
		return []sockets.Socket{{Port: 4000, Protocol: "tcp", PID: 77, Command: "python3 -m http.server"}}, nil
	}
	b.eng.ByName("demo-api-1").State = "exited"
	_, err := b.up(UpOptions{})
	if !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "python3") {
		t.Fatalf("stranger: %v", err)
	}
}

// Orphans of the project hold their ports unless they are being removed.
func TestUpOrphanPortsAreHeld(t *testing.T) {
	b := newBed(t, "name: demo\nservices:\n  web:\n    image: demo/api:dev\n    ports: [\"8080:80\"]\n")
	b.eng.AddContainer(Container{Name: "demo-old-1", State: "running", Ports: []PortBinding{{HostIP: "127.0.0.1", HostPort: "8080", Target: 80, Protocol: "tcp"}}, Labels: map[string]string{LabelProject: "demo", LabelService: "old"}})
	if _, err := b.up(UpOptions{Ports: PortOptions{Strict: true}}); !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "demo-old-1") {
		t.Fatalf("orphan's port counted as free: %v", err)
	}
	res := b.mustUp(UpOptions{RemoveOrphans: true, Ports: PortOptions{Strict: true}})
	if !strings.Contains(res.Plan.String(), "remove orphan old") || b.eng.ByName("demo-old-1") != nil {
		t.Fatalf("plan: %s", res.Plan)
	}
}

// Minor: up SERVICE of a profiled service enables it, as compose does, and
// an inactive service keeps its reservation on a plain up.
func TestUpProfiledService(t *testing.T) {
	b := newBed(t, `name: demo
services:
  web:
    image: demo/api:dev
  mail:
    image: demo/api:dev
    profiles: [tools]
    ports: ["1025:1025"]
    volumes: [maildata:/data]
    networks: [back]
volumes:
  maildata:
networks:
  back:
`)
	b.mustUp(UpOptions{Services: []string{"mail"}})
	mail := b.container("demo-mail-1")
	if mail.State != "running" {
		t.Fatal("mail not started")
	}
	if len(mail.Mounts) != 1 || mail.Mounts[0].Source != "demo_maildata" || len(mail.Spec.Networks) != 1 || mail.Spec.Networks[0].Name != "demo_back" {
		t.Fatalf("the enabled service lost its project volume or network: %+v %+v", mail.Mounts, mail.Spec.Networks)
	}
	if _, ok := b.eng.VolumesByName["demo_maildata"]; !ok {
		t.Fatalf("volume not created: %v", b.eng.Calls("create-volume"))
	}
	b.mustUp(UpOptions{})
	reg, err := b.o.Registry.Load()
	if err != nil {
		t.Fatal(err)
	}
	if p := reg.Find("demo", ""); p == nil || len(p.Reservations) != 1 || p.Reservations[0].Port != 1025 {
		t.Fatalf("inactive service lost its reservation: %+v", reg.Projects)
	}
}

func TestUpDryRunChangesNothing(t *testing.T) {
	b := newBed(t, stackFile)
	res := b.mustUp(UpOptions{DryRun: true})
	if len(b.eng.Log) != 0 || !strings.Contains(res.Plan.String(), "create db") {
		t.Fatalf("dry run: calls %v plan %s", b.eng.Log, res.Plan)
	}
	if _, err := os.Stat(b.reg); err == nil {
		t.Fatal("dry run wrote the registry")
	}
}

func TestUpForeignContainerName(t *testing.T) {
	b := newBed(t, "name: demo\nservices:\n  web:\n    image: demo/api:dev\n    container_name: taken\n")
	b.eng.AddContainer(Container{Name: "taken", Labels: map[string]string{}})
	_, err := b.up(UpOptions{})
	var fe *ForeignError
	if !errors.As(err, &fe) || len(b.eng.Calls("create", "stop", "remove")) != 0 {
		t.Fatalf("got %v, calls %v", err, b.eng.Log)
	}
}

// Item 1: down -v removes only the file's own non-external volumes.
func TestDownVolumes(t *testing.T) {
	b := newBed(t, `name: demo
services:
  db:
    image: postgres:15
    volumes: [pgdata:/data, cache:/cache]
  mail:
    image: demo/api:dev
    profiles: [tools]
    volumes: [maildata:/data]
volumes:
  pgdata:
  cache:
  maildata:
`)
	labels := func(key string) map[string]string {
		return map[string]string{LabelProject: "demo", LabelVolume: key}
	}
	b.mustUp(UpOptions{})
	for _, v := range []string{"demo_maildata", "demo_pgdata"} {
		b.eng.VolumesByName[v] = Volume{Name: v, Labels: labels(strings.TrimPrefix(v, "demo_"))}
	}
	// pgdata is now protected by the file: external, with its full name.
	b.write(`name: demo
services:
  db:
    image: postgres:15
    volumes: [pgdata:/data, cache:/cache]
  mail:
    image: demo/api:dev
    profiles: [tools]
    volumes: [maildata:/data]
volumes:
  pgdata:
    external: true
    name: demo_pgdata
  cache:
  maildata:
`)
	if err := b.o.Down(t.Context(), b.project(), DownOptions{Volumes: true}); err != nil {
		t.Fatal(err)
	}
	var left []string
	for v := range b.eng.VolumesByName {
		left = append(left, v)
	}
	slices.Sort(left)
	if strings.Join(left, ",") != "demo_maildata,demo_pgdata" {
		t.Fatalf("volumes left: %v (removed: %v)", left, b.eng.Calls("remove-volume"))
	}
	if len(b.eng.ByID) != 0 || len(b.eng.NetworksByName) != 0 {
		t.Fatalf("containers or networks left: %v %v", b.eng.ByID, b.eng.NetworksByName)
	}
}

// Item 1: a same-named project of another directory is refused, untouched.
func TestDownRefusesAnotherDirectorysProject(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	other := newBed(t, stackFile)
	other.eng, other.o.Engine = b.eng, b.eng
	err := other.o.Down(t.Context(), other.project(), DownOptions{Volumes: true})
	var wd *WrongDirError
	if !errors.As(err, &wd) || !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), b.dir) {
		t.Fatalf("got %v", err)
	}
	if len(b.eng.Calls("stop", "remove")) != 0 {
		t.Fatalf("touched: %v", b.eng.Calls("stop", "remove"))
	}
	if _, err := other.up(UpOptions{}); !errors.As(err, &wd) {
		t.Fatalf("up on another directory's project: %v", err)
	}
}

// Without a file, down -p NAME -v sweeps by label.
func TestDownByNameSweepsLabels(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	p := &compose.Project{Model: b.project().Model}
	p.Model.Services = nil
	if err := b.o.Down(t.Context(), p, DownOptions{Volumes: true}); err != nil {
		t.Fatal(err)
	}
	if len(b.eng.ByID) != 0 || len(b.eng.VolumesByName) != 0 {
		t.Fatalf("left: %v %v", b.eng.ByID, b.eng.VolumesByName)
	}
}

// Item 10: labels that disagree with the file (a cycle) neither deadlock
// stop nor survive the model; a cancelled stop returns at once.
func TestStopOrderAndCycles(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.container("demo-db-1").Labels[LabelDependsOn] = "api:service_started:false"
	done := make(chan error, 1)
	go func() { done <- b.o.Stop(t.Context(), b.project(), StopOptions{}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stop deadlocked on a dependency cycle")
	}
	if stops := b.eng.Calls("stop "); !slices.Equal(stops, []string{"stop demo-api-1", "stop demo-db-1"}) {
		t.Fatalf("api must stop before db: %v", stops)
	}
	// A cycle among containers the file does not declare (-p NAME).
	p := &compose.Project{Model: b.project().Model}
	p.Model.Services = nil
	b.mustUp(UpOptions{})
	b.container("demo-api-1").Labels[LabelDependsOn] = "db:service_started:false"
	b.container("demo-db-1").Labels[LabelDependsOn] = "api:service_started:false"
	if err := b.o.Stop(t.Context(), p, StopOptions{}); err != nil {
		t.Fatal(err)
	}
	// Cancelled while a container takes long to stop.
	b.mustUp(UpOptions{})
	b.eng.StopDelay["demo-api-1"] = time.Minute
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if err := b.o.Stop(ctx, b.project(), StopOptions{}); !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled stop: %v after %s", err, time.Since(start))
	}
}

func TestStopReportsKill(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.eng.StopDelay["demo-api-1"] = time.Second
	zero := 10 * time.Millisecond
	if err := b.o.Stop(t.Context(), b.project(), StopOptions{Services: []string{"api"}, Timeout: &zero}); err != nil {
		t.Fatal(err)
	}
	if !b.rec.has("Killed", "SIGKILL") {
		t.Fatal("kill not reported")
	}
}

// Item 12: restart starts what it stopped although the engine's list still
// shows it running (Engine 29).
func TestRestartWithStaleList(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.eng.StaleList = true
	if err := b.o.Restart(t.Context(), b.project(), StopOptions{Services: []string{"api"}}); err != nil {
		t.Fatal(err)
	}
	if b.container("demo-api-1").State != "running" {
		t.Fatalf("restart left api %s; calls %v", b.container("demo-api-1").State, b.eng.Log)
	}
}

func TestStartStartsStoppedInOrder(t *testing.T) {
	b := newBed(t, stackFile)
	if err := b.o.Start(t.Context(), b.project(), StartOptions{}); err == nil {
		t.Fatal("start without containers must fail")
	}
	b.mustUp(UpOptions{})
	if err := b.o.Stop(t.Context(), b.project(), StopOptions{}); err != nil {
		t.Fatal(err)
	}
	n := len(b.eng.Calls("start "))
	if err := b.o.Start(t.Context(), b.project(), StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if starts := b.eng.Calls("start ")[n:]; !slices.Equal(starts, []string{"start demo-db-1", "start demo-api-1"}) {
		t.Fatalf("start order: %v", starts)
	}
}

func TestPsLogsLsAndPorts(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	ps, err := b.o.Ps(t.Context(), b.project(), PsOptions{})
	if err != nil || len(ps.Containers) != 2 {
		t.Fatalf("ps: %+v %v", ps, err)
	}
	var out bytes.Buffer
	if err := b.o.Logs(t.Context(), b.project(), LogsOptions{Tail: "5"}, &out); err != nil || !strings.Contains(out.String(), "log line of demo-db-1") {
		t.Fatalf("logs: %q %v", out.String(), err)
	}
	rows, err := b.o.Ls(t.Context())
	if err != nil || len(rows) != 1 || rows[0].Ports != "4000,5434" {
		t.Fatalf("ls: %+v %v", rows, err)
	}
	pm, _, err := b.o.PortMap(t.Context(), true)
	if err != nil || len(pm) != 2 {
		t.Fatalf("port map: %+v %v", pm, err)
	}
	if conflicts, err := b.o.CheckPorts(t.Context()); err != nil || len(conflicts) != 0 {
		t.Fatalf("check: %v %v", conflicts, err)
	}
	if hs, err := b.o.Why(t.Context(), 5434); err != nil || len(hs) == 0 {
		t.Fatalf("why: %v %v", hs, err)
	}
	if got, err := b.o.Port(t.Context(), b.project(), "db", 5432, "tcp"); err != nil || got != "127.0.0.1:5434" {
		t.Fatalf("port: %q %v", got, err)
	}
	if ok, _, err := b.o.ReleasePorts(t.Context(), "demo", ""); err != nil || !ok {
		t.Fatalf("release: %v %v", ok, err)
	}
}

func TestHealthOfContainers(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	rows, err := b.o.Health(t.Context(), b.project(), nil)
	if err != nil || len(rows) == 0 {
		t.Fatalf("health: %+v %v", rows, err)
	}
}

// A second container of one service (a leftover) neither panics down nor
// starts with start.
func TestDownAndStartWithLeftover(t *testing.T) {
	for i := 0; i < 20; i++ {
		b := newBed(t, stackFile)
		b.mustUp(UpOptions{})
		left := b.eng.AddContainer(Container{State: "running", Labels: map[string]string{LabelProject: "demo", LabelService: "db", LabelNumber: "1"}})
		left.Name = plan.ShortID(left.ID) + "_demo-db-1"
		if err := b.o.Stop(t.Context(), b.project(), StopOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := b.o.Start(t.Context(), b.project(), StartOptions{}); err != nil {
			t.Fatal(err)
		}
		if left.State == "running" {
			t.Fatal("start started the leftover")
		}
		if err := b.o.Down(t.Context(), b.project(), DownOptions{}); err != nil {
			t.Fatal(err)
		}
		if len(b.eng.ByID) != 0 {
			t.Fatalf("left: %v", b.eng.ByID)
		}
	}
}

// Engine 29 starts a container whose earlier start failed on a taken port
// without its ports; up recreates it once so its ports are back.
func TestUpRecreatesContainerStartedWithoutPorts(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.container("demo-db-1").State = "exited"
	b.eng.StartWithoutPorts["demo-db-1"] = true
	b.mustUp(UpOptions{})
	d, err := b.eng.Inspect(t.Context(), "demo-db-1")
	if err != nil || len(d.Published) != 1 || d.Published[0].HostPort != "5434" {
		t.Fatalf("published %+v %v; calls %v", d.Published, err, b.eng.Log)
	}
}

// A container an interrupted devenv created but never started takes the
// name between observe and create: it is removed and the create retried;
// one of another service is left alone.
func TestUpReplacesHalfMadeContainer(t *testing.T) {
	b := newBed(t, stackFile)
	var half *fakeengine.Container
	b.eng.BeforeCreate = func(name string) {
		half = b.eng.AddContainer(Container{Name: name, State: "created", Labels: map[string]string{LabelProject: "demo", LabelService: "db"}})
	}
	b.mustUp(UpOptions{Services: []string{"db"}})
	if c := b.container("demo-db-1"); c.ID == half.ID || c.State != "running" {
		t.Fatalf("half-made container kept: %+v", c)
	}
	b2 := newBed(t, stackFile)
	b2.eng.BeforeCreate = func(name string) {
		b2.eng.AddContainer(Container{Name: name, State: "created", Labels: map[string]string{LabelProject: "other", LabelService: "db"}})
	}
	if _, err := b2.up(UpOptions{Services: []string{"db"}}); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("another project's container: %v", err)
	}
}

func TestLsPortsSorted(t *testing.T) {
	b := newBed(t, "name: demo\nservices:\n  a:\n    image: demo/api:dev\n    ports: [\"9000:80\"]\n  b:\n    image: demo/api:dev\n    ports: [\"1000:80\"]\n")
	b.mustUp(UpOptions{})
	rows, err := b.o.Ls(t.Context())
	if err != nil || len(rows) != 1 || rows[0].Ports != "1000,9000" {
		t.Fatalf("ls: %+v %v", rows, err)
	}
}

func TestKillPauseRm(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	if err := b.o.Pause(t.Context(), b.project(), []string{"api"}, true); err != nil || b.container("demo-api-1").State != "paused" {
		t.Fatalf("pause: %v %s", err, b.container("demo-api-1").State)
	}
	if err := b.o.Pause(t.Context(), b.project(), nil, false); err != nil || b.container("demo-api-1").State != "running" {
		t.Fatalf("unpause: %v", err)
	}
	if err := b.o.Kill(t.Context(), b.project(), KillOptions{Services: []string{"api"}, Signal: "SIGTERM"}); err != nil {
		t.Fatal(err)
	}
	if got := b.eng.Calls("kill "); !slices.Equal(got, []string{"kill demo-api-1 SIGTERM"}) || b.container("demo-db-1").State != "running" {
		t.Fatalf("kill: %v", got)
	}
	// rm removes stopped containers only, unless -s.
	removed, err := b.o.Rm(t.Context(), b.project(), RmOptions{})
	if err != nil || !slices.Equal(removed, []string{"demo-api-1"}) || b.eng.ByName("demo-db-1") == nil {
		t.Fatalf("rm: %v %v", removed, err)
	}
	removed, err = b.o.Rm(t.Context(), b.project(), RmOptions{Services: []string{"db"}, Stop: true})
	if err != nil || !slices.Equal(removed, []string{"demo-db-1"}) || len(b.eng.ByID) != 0 {
		t.Fatalf("rm -s: %v %v", removed, err)
	}
	if _, ok := b.eng.VolumesByName["demo_pgdata"]; !ok {
		t.Fatal("rm removed a named volume")
	}
}

func TestWaitAndDownRmi(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	go func() {
		time.Sleep(50 * time.Millisecond)
		b.eng.Mu.Lock()
		c, _ := b.eng.Find("demo-api-1")
		c.State, c.ExitCode = "exited", 3
		b.eng.Mu.Unlock()
	}()
	var got []WaitResult
	if err := b.o.Wait(t.Context(), b.project(), []string{"api"}, true, func(r WaitResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ExitCode != 3 || len(b.eng.ByID) != 0 {
		t.Fatalf("wait --down-project: %+v, left %d containers", got, len(b.eng.ByID))
	}
	b.mustUp(UpOptions{})
	if err := b.o.Down(t.Context(), b.project(), DownOptions{RemoveImages: "all"}); err != nil {
		t.Fatal(err)
	}
	if rm := b.eng.Calls("remove-image"); len(rm) != 2 {
		t.Fatalf("down --rmi all: %v", rm)
	}
}

// create: containers created (and a changed one recreated) but none
// started; a stopped one stays stopped.
func TestCreateStartsNothing(t *testing.T) {
	b := newBed(t, stackFile)
	res := b.mustUp(UpOptions{NoStart: true, NoWait: true})
	if !strings.Contains(res.Plan.String(), "create db (demo-db-1): new; not started") || len(b.eng.Calls("start ")) != 0 {
		t.Fatalf("plan:\n%s\ncalls %v", res.Plan, b.eng.Log)
	}
	if b.container("demo-db-1").State != "created" || b.container("demo-api-1").State != "created" {
		t.Fatal("created containers were started")
	}
	b.mustUp(UpOptions{NoStart: true, NoWait: true, ForceRecreate: true})
	if len(b.eng.Calls("start ")) != 0 || b.container("demo-db-1").State != "created" {
		t.Fatalf("recreate started: %v", b.eng.Calls("start "))
	}
}

func TestStatsAndTopOfRunningContainers(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	b.container("demo-api-1").State = "exited"
	rows, err := b.o.Stats(t.Context(), b.project(), nil)
	if err != nil || len(rows) != 1 || rows[0].Name != "demo-db-1" || rows[0].Stats.PIDs != 3 {
		t.Fatalf("stats: %+v %v", rows, err)
	}
	titles, procs, err := b.o.Top(t.Context(), b.project(), nil)
	if err != nil || len(titles) != 2 || len(procs) != 1 || procs[0].Service != "db" {
		t.Fatalf("top: %v %+v %v", titles, procs, err)
	}
	imgs, err := b.o.Images(t.Context(), b.project(), []string{"db"})
	if err != nil || len(imgs) != 1 || imgs[0].Image.ID != "sha256:pg" {
		t.Fatalf("images: %+v %v", imgs, err)
	}
}

func TestRmAsksFirst(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	var asked []string
	removed, err := b.o.Rm(t.Context(), b.project(), RmOptions{Stop: true, Confirm: func(n []string) bool { asked = n; return false }})
	if err != nil || len(removed) != 0 || len(asked) != 2 || len(b.eng.ByID) != 2 || len(b.eng.Calls("stop ")) != 0 {
		t.Fatalf("declined rm: removed %v asked %v err %v calls %v", removed, asked, err, b.eng.Log)
	}
}

// up --no-recreate keeps a changed container as it is, but refuses to keep
// one on other ports than the registry assigns it.
func TestUpNoRecreate(t *testing.T) {
	b := newBed(t, stackFile)
	b.mustUp(UpOptions{})
	id := b.container("demo-db-1").ID
	b.write(strings.Replace(stackFile, "image: postgres:15", "image: postgres:15\n    environment: {EXTRA: \"1\"}", 1))
	res := b.mustUp(UpOptions{NoRecreate: true})
	if b.container("demo-db-1").ID != id || !strings.Contains(res.Plan.String(), "kept (--no-recreate): configuration changed") {
		t.Fatalf("--no-recreate recreated; plan:\n%s", res.Plan)
	}
	b.write(strings.Replace(stackFile, "5434:5432", "5440:5432", 1))
	if _, err := b.up(UpOptions{NoRecreate: true}); err == nil || !strings.Contains(err.Error(), "--no-recreate would keep") {
		t.Fatalf("kept on old ports: %v", err)
	}
	if b.container("demo-db-1").ID != id {
		t.Fatal("the refused up changed the container")
	}
}

// start --wait waits for a one-shot that others wait on to complete, and
// for the rest to run.
func TestStartWaitOneShot(t *testing.T) {
	b := newBed(t, `name: demo
services:
  migrate:
    image: demo/api:dev
  api:
    image: demo/api:dev
    depends_on: {migrate: {condition: service_completed_successfully}}
`)
	b.eng.ExitOnStart["demo-migrate-1"] = 0
	b.mustUp(UpOptions{})
	if err := b.o.Stop(t.Context(), b.project(), StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.o.Start(t.Context(), b.project(), StartOptions{Wait: true, WaitTimeout: 5 * time.Second}); err != nil {
		t.Fatalf("start --wait with a completed one-shot: %v", err)
	}
	b.eng.ExitOnStart["demo-migrate-1"] = 3
	b.o.Stop(t.Context(), b.project(), StopOptions{})
	if err := b.o.Start(t.Context(), b.project(), StartOptions{Wait: true, WaitTimeout: 5 * time.Second}); err == nil || !strings.Contains(err.Error(), "did not complete successfully") {
		t.Fatalf("start --wait with a failed one-shot: %v", err)
	}
}

// Images with build: are built when missing (once for services that share
// one), not again when present, always with --build or pull_policy build;
// a failed build leaves nothing created and no port reserved.
func TestUpBuilds(t *testing.T) {
	b := newBed(t, `name: demo
services:
  app:
    build: .
    ports: ["5500:80"]
  worker:
    build: .
    image: demo/shared:1
  worker2:
    build: .
    image: demo/shared:1
`)
	os.WriteFile(filepath.Join(b.dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	b.eng.Fail = map[string]error{"build demo-app": errors.New("step failed")}
	if _, err := b.up(UpOptions{NoWait: true}); err == nil {
		t.Fatal("a failed build went on")
	}
	if len(b.eng.Calls("create ")) != 0 {
		t.Fatalf("a failed build created %v", b.eng.Calls("create "))
	}
	if data, _ := os.ReadFile(b.reg); strings.Contains(string(data), "5500") {
		t.Fatalf("a failed build reserved its port:\n%s", data)
	}
	b.eng.Fail = nil
	b.eng.Log = nil
	b.mustUp(UpOptions{NoWait: true})
	// demo/shared:1 may have been built by the first up, beside the
	// failing one, or cancelled with it; demo-app is built now, once.
	got := b.eng.Calls("build ")
	if !slices.Contains(got, "build demo-app") || len(got) > 2 || b.container("demo-app-1").Spec.Image != "demo-app" {
		t.Fatalf("builds %v, image %s", got, b.container("demo-app-1").Spec.Image)
	}
	b.eng.Log = nil
	b.mustUp(UpOptions{NoWait: true})
	if got := b.eng.Calls("build "); len(got) != 0 {
		t.Fatalf("present images built again: %v", got)
	}
	b.eng.Log = nil
	b.mustUp(UpOptions{NoWait: true, Build: "always"})
	if got := b.eng.Calls("build "); len(got) != 2 {
		t.Fatalf("--build: %v", got)
	}
	if _, err := b.up(UpOptions{NoWait: true, Build: "never"}); err != nil {
		t.Fatalf("--no-build with the images present: %v", err)
	}
}

// A service that builds an image another service only names: the image is
// built, never pulled, whichever comes first; BuildKit-only options block
// only a build, not an up that finds the image present; a build waits for
// the builds of its dependencies.
func TestUpBuildSharedAndDeps(t *testing.T) {
	b := newBed(t, `name: demo
services:
  app:
    image: demo/base:1
  web:
    image: demo/base:1
    build:
      context: .
      secrets: [tok]
  top:
    build: .
    depends_on: [web]
secrets:
  tok: {file: ./Dockerfile}
`)
	os.WriteFile(filepath.Join(b.dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	if _, err := b.up(UpOptions{NoWait: true}); err == nil || !strings.Contains(err.Error(), "secrets") {
		t.Fatalf("a build with secrets on the classic builder: %v", err)
	}
	if len(b.eng.Calls("pull ")) != 0 {
		t.Fatalf("an image the project builds was pulled: %v", b.eng.Calls("pull "))
	}
	b.eng.AddImage("sha256:base", "demo/base:1")
	b.eng.Log = nil
	b.mustUp(UpOptions{NoWait: true})
	if got := b.eng.Calls("build "); len(got) != 1 || got[0] != "build demo-top" {
		t.Fatalf("builds with demo/base:1 present: %v", got)
	}
}

// fakeRemote is a remote engine's host with nothing listening.
type fakeRemote struct{ removed []string }

func (f *fakeRemote) Relay(ctx context.Context, project, dir string, create bool) (string, error) {
	return "relay-" + project, nil
}

func (f *fakeRemote) RemoveRelay(ctx context.Context, project, dir string) error {
	f.removed = append(f.removed, project)
	return nil
}

func (f *fakeRemote) Listening(ctx context.Context, relay string, fresh bool) ([]sockets.Socket, error) {
	return nil, nil
}
func (f *fakeRemote) RelayBeacon(ctx context.Context, relay string) forward.Beacon {
	return forward.Beacon{}
}
func (f *fakeRemote) Forward() forward.Engine { return forward.Engine{Host: "tcp://box:2375"} }
func (f *fakeRemote) Label() string           { return "tcp://box:2375" }

// A project whose containers name a directory that is not on this machine
// moved here on a local engine; on a remote engine they may be another
// machine's project of the same name, and down leaves them alone.
func TestDownOnARemoteEngineRefusesAnUnknownDirectory(t *testing.T) {
	for _, remote := range []bool{false, true} {
		b := newBed(t, stackFile)
		b.mustUp(UpOptions{})
		for _, c := range b.eng.ByID {
			c.Labels[LabelWorkingDir] = "/nowhere/on/this/machine"
		}
		fr := &fakeRemote{}
		if remote {
			b.o.Remote = fr
		}
		err := b.o.Down(t.Context(), b.project(), DownOptions{Volumes: true})
		var wd *WrongDirError
		if remote {
			if !errors.As(err, &wd) || len(b.eng.Calls("stop", "remove")) != 0 || len(fr.removed) != 0 {
				t.Fatalf("remote: err %v, touched %v, relays removed %v", err, b.eng.Calls("stop", "remove"), fr.removed)
			}
			continue
		}
		if err != nil || len(b.eng.ByID) != 0 {
			t.Fatalf("local: a moved project's down: %v, left %d", err, len(b.eng.ByID))
		}
	}
}

// remoteBed is a bed whose engine is remote: a fake relay, forwards run by
// fake host supervision, and this machine's ports listening where a
// running forward serves them.
func remoteBed(t *testing.T) (*bed, *fakeRemote, *fakeHosts) {
	b := newBed(t, stackFile)
	fr, fh := &fakeRemote{}, newFakeHosts(t)
	b.o.Remote, b.o.Hosts, b.o.EngineKey, b.o.ForwardCommand = fr, fh, "BOX", []string{"devenv"}
	b.o.Sockets = func(ctx context.Context, _ map[int]bool) ([]sockets.Socket, error) {
		var out []sockets.Socket
		if st, ok := fh.Status("demo", b.o.forwardName()); ok && st.Running {
			fh.mu.Lock()
			spec, _ := forward.Decode(strings.TrimPrefix(fh.specs[b.o.forwardName()].Env[0], forward.Env+"="))
			fh.mu.Unlock()
			for _, p := range spec.Ports {
				out = append(out, sockets.Socket{Port: p.Local, Protocol: "tcp", PID: st.PID, Command: "devenv"})
			}
		}
		return out, nil
	}
	return b, fr, fh
}

// On a remote engine, up forwards the published ports here (once: a
// second up keeps the forward), stop ends the forward, start brings it
// back, down ends it and removes the relay; a project of the same name on
// the local engine leaves it alone.
func TestRemoteForwardLifecycle(t *testing.T) {
	b, fr, fh := remoteBed(t)
	fwd := b.o.forwardName()
	b.mustUp(UpOptions{})
	spec, err := forward.Decode(strings.TrimPrefix(fh.specs[fwd].Env[0], forward.Env+"="))
	if err != nil {
		t.Fatal(err)
	}
	var ports []string
	for _, p := range spec.Ports {
		ports = append(ports, fmt.Sprintf("%s %d→%s:%d", p.Service, p.Local, p.RemoteIP, p.Remote))
	}
	if got := strings.Join(ports, ", "); got != "api 4000→127.0.0.1:4000, db 5434→127.0.0.1:5434" || spec.Relay != "relay-demo" {
		t.Fatalf("forward spec: %s (relay %q)", got, spec.Relay)
	}
	if !b.rec.has("Forwarded", "db 5434") || !b.o.Forwarding("demo") {
		t.Fatalf("up did not report the forward: %v", b.rec.events)
	}
	b.mustUp(UpOptions{})
	if got := slices.DeleteFunc(slices.Clone(fh.calls), func(c string) bool { return !strings.HasSuffix(c, fwd) }); len(got) != 1 {
		t.Fatalf("a second up restarted the forward: %v", got)
	}

	// The same project name on the local engine is another project.
	local := *b.o
	local.Remote, local.EngineKey = nil, ""
	if err := local.Stop(t.Context(), b.project(), StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if !b.o.Forwarding("demo") {
		t.Fatal("stop of the local engine's demo ended the remote demo's forward")
	}
	b.mustUp(UpOptions{}) // the containers run again

	if err := b.o.Stop(t.Context(), b.project(), StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if b.o.Forwarding("demo") {
		t.Fatal("stop left the forward running")
	}
	if err := b.o.Start(t.Context(), b.project(), StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if !b.o.Forwarding("demo") {
		t.Fatal("start did not bring the forward back")
	}
	if err := b.o.Down(t.Context(), b.project(), DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if b.o.Forwarding("demo") || !slices.Equal(fr.removed, []string{"demo"}) {
		t.Fatalf("down: forwarding %v, relays removed %v", b.o.Forwarding("demo"), fr.removed)
	}
}
