package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/moby/moby/client"
)

// sortedLines is s's lines, sorted, the first kept first (a table header).
func sortedLines(s string, keepHeader bool) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	start := 0
	if keepHeader && len(lines) > 0 {
		start = 1
	}
	slices.Sort(lines[start:])
	return strings.Join(lines, "\n")
}

// jsonRows decodes a JSON array or JSON lines into rows sorted by key.
func jsonRows(t *testing.T, s, key string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if strings.HasPrefix(strings.TrimSpace(s), "[") {
		if err := json.Unmarshal([]byte(s), &rows); err != nil {
			t.Fatalf("%v: %s", err, s)
		}
	} else {
		dec := json.NewDecoder(strings.NewReader(s))
		for dec.More() {
			var r map[string]any
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("%v: %s", err, s)
			}
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i][key]) < fmt.Sprint(rows[j][key]) })
	return rows
}

// TestIntegrationComposeOutputs runs devenv and the reference docker
// compose with the same arguments on the same project and compares what
// they print: byte for byte where nothing changes between two runs, else
// the fields that do not (keys, names, IDs; not CPU or memory figures).
func TestIntegrationComposeOutputs(t *testing.T) {
	composeV2(t)
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	h.must("up")
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	compose := func(args ...string) string {
		t.Helper()
		out, err := runCompose(t, h.dir, env, args...)
		if err != nil {
			t.Fatalf("compose %v: %v %s", args, err, out)
		}
		return out
	}
	// Identical, rows in any order.
	for _, args := range [][]string{
		{"images"}, {"images", "api"}, {"volumes"}, {"volumes", "--format", "json"},
		{"config", "--networks"},
		{"ps", "--services", "--orphans=false"}, {"ps", "-a", "--no-trunc", "--format", "{{.Name}} {{.ID}} {{.Service}}"},
		{"ls", "-q", "--filter", "name=^" + project + "$"},
	} {
		want, got := compose(args...), h.must(args...).stdout
		header := args[0] == "images" || (args[0] == "volumes" && len(args) == 1)
		if sortedLines(got, header) != sortedLines(want, header) || strings.TrimSpace(got) == "" {
			t.Errorf("%v:\n--- compose\n%s--- devenv\n%s", args, want, got)
		}
	}
	// JSON: the same keys and values.
	if want, got := jsonRows(t, compose("images", "--format", "json"), "ContainerName"), jsonRows(t, h.must("images", "--format", "json").stdout, "ContainerName"); !reflect.DeepEqual(got, want) {
		t.Errorf("images --format json:\n compose %v\n devenv  %v", want, got)
	}
	// ls --format json: one array; compose's keys with compose's values
	// (devenv adds its own beside them).
	var composeLs, devenvLs []map[string]any
	filter := []string{"ls", "--format", "json", "--filter", "name=^" + project + "$"}
	if err := json.Unmarshal([]byte(compose(filter...)), &composeLs); err != nil || len(composeLs) != 1 {
		t.Fatalf("compose ls: %v %v", composeLs, err)
	}
	if err := json.Unmarshal([]byte(h.must(filter...).stdout), &devenvLs); err != nil || len(devenvLs) != 1 {
		t.Fatalf("devenv ls is not one JSON array of one project: %v %v", devenvLs, err)
	}
	for k, v := range composeLs[0] {
		if devenvLs[0][k] != v {
			t.Errorf("ls --format json: %s = %v, compose says %v", k, devenvLs[0][k], v)
		}
	}
	// ps --format json: the same objects (times aside, they move), also
	// with --no-trunc.
	for _, args := range [][]string{{"ps", "--format", "json"}, {"ps", "-a", "--no-trunc", "--format", "json"}} {
		norm := func(rows []map[string]any) []map[string]any {
			for _, r := range rows {
				delete(r, "RunningFor")
				delete(r, "Status")
				l := strings.Split(fmt.Sprint(r["Labels"]), ",")
				slices.Sort(l)
				r["Labels"] = strings.Join(l, ",")
			}
			return rows
		}
		want, got := norm(jsonRows(t, compose(args...), "Name")), norm(jsonRows(t, h.must(args...).stdout, "Name"))
		if !reflect.DeepEqual(got, want) || len(got) != 2 {
			t.Errorf("%v:\n compose %v\n devenv  %v", args, want, got)
		}
	}
	// Templates with table headers as docker titles them.
	for _, args := range [][]string{
		{"ps", "--format", `table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Service}}\t{{.State}}\t{{.Ports}}`},
		{"volumes", "--format", `table {{.Name}}\t{{.Driver}}\t{{.Scope}}`},
	} {
		if want, got := compose(args...), h.must(args...).stdout; sortedLines(got, true) != sortedLines(want, true) {
			t.Errorf("%v:\n--- compose\n%s--- devenv\n%s", args, want, got)
		}
	}
	// stats: the same columns, keys and identities (figures move, and the
	// columns' widths with them).
	header := func(out string) string { return strings.Join(strings.Fields(strings.SplitN(out, "\n", 2)[0]), " ") }
	if want, got := header(compose("stats", "--no-stream")), header(h.must("stats", "--no-stream").stdout); got != want {
		t.Errorf("stats header:\n compose %q\n devenv  %q", want, got)
	}
	want, got := jsonRows(t, compose("stats", "--no-stream", "--format", "json"), "Name"), jsonRows(t, h.must("stats", "--no-stream", "--format", "json").stdout, "Name")
	if len(got) != len(want) || len(got) != 2 {
		t.Fatalf("stats rows: compose %v devenv %v", want, got)
	}
	for i := range want {
		for k := range want[i] {
			if _, ok := got[i][k]; !ok {
				t.Errorf("stats json: devenv has no %s", k)
			}
		}
		for _, k := range []string{"Container", "ID", "Name"} {
			if got[i][k] != want[i][k] {
				t.Errorf("stats json %s: compose %v devenv %v", k, want[i][k], got[i][k])
			}
		}
	}
	// logs --no-color --index 1: the same lines under compose's prefix.
	if want, got := compose("logs", "--no-color", "--index", "1", "api"), h.must("logs", "--no-color", "--index", "1", "api").stdout; sortedLines(got, false) != sortedLines(want, false) {
		t.Errorf("logs:\n--- compose\n%s--- devenv\n%s", want, got)
	}
	h.must("down")
}

// TestIntegrationComposeEventsTextAndWait: events in compose's text form
// for a restart, and wait on two services that stop, print what compose
// prints.
func TestIntegrationComposeEventsTextAndWait(t *testing.T) {
	composeV2(t)
	c, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	h.must("up")
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	ctx, cancel := context.WithCancel(context.Background())
	var devOut, cmpOut bytes.Buffer
	done := make(chan struct{})
	go func() {
		runIn(ctx, h.dir, []string{"devenv", "events", "web"}, h.env, nil, &syncWriter{w: &devOut}, &bytes.Buffer{})
		close(done)
	}()
	cmp := exec.CommandContext(ctx, "docker", "compose", "events", "web")
	cmp.Dir, cmp.Env, cmp.Stdout = h.dir, append(os.Environ(), env...), &syncWriter{w: &cmpOut}
	cmp.Start()
	time.Sleep(time.Second)
	if _, err := c.ContainerRestart(context.Background(), project+"-web-1", client.ContainerRestartOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	cancel()
	<-done
	cmp.Wait()
	shape := func(s string) string {
		var out []string
		for _, line := range strings.Split(s, "\n") {
			f := strings.Fields(line)
			if len(f) < 5 {
				continue
			}
			if _, err := time.Parse("2006-01-02 15:04:05.000000", f[0]+" "+f[1]); err != nil {
				t.Errorf("events time %q", f[0]+" "+f[1])
			}
			out = append(out, f[2]+" "+f[3]+" "+f[4]) // type, action, ID
		}
		return strings.Join(out, "\n")
	}
	if shape(devOut.String()) != shape(cmpOut.String()) || devOut.Len() == 0 {
		t.Errorf("events:\n--- compose\n%s--- devenv\n%s", cmpOut.String(), devOut.String())
	}
	// wait on both services: one line a container, as compose words it.
	waitOut := func(run func() string) string {
		go func() {
			time.Sleep(500 * time.Millisecond)
			c.ContainerKill(context.Background(), project+"-web-1", client.ContainerKillOptions{Signal: "SIGKILL"})
			time.Sleep(300 * time.Millisecond)
			c.ContainerKill(context.Background(), project+"-api-1", client.ContainerKillOptions{Signal: "SIGTERM"})
		}()
		return run()
	}
	got := waitOut(func() string { return h.run("wait", "web", "api").stdout })
	h.must("up")
	want := waitOut(func() string { out, _ := runCompose(t, h.dir, env, "wait", "web", "api"); return out })
	if sortedLines(got, false) != sortedLines(want, false) || strings.Count(got, "\n") != 2 {
		t.Errorf("wait:\n--- compose\n%s--- devenv\n%s", want, got)
	}
	h.must("down")
}

// TestIntegrationComposeKillSignalsAndDownRmi: kill with other signals and
// down --rmi all leave the engine as compose's do.
func TestIntegrationComposeKillSignalsAndDownRmi(t *testing.T) {
	composeV2(t)
	c, image, h, project := serverProject(t)
	ctx := context.Background()
	own := "devenv-rmi-test/" + project + ":1"
	if _, err := c.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: own}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ImageRemove(context.Background(), own, client.ImageRemoveOptions{}) })
	h.write("docker-compose.dev.yml", twoServices(own, project, freePort(t), freePort(t), ""))
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	exitCode := func(svc string) (string, int) {
		ins, err := c.ContainerInspect(ctx, project+"-"+svc+"-1", client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return string(ins.Container.State.Status), ins.Container.State.ExitCode
	}
	results := map[string]string{}
	for _, tool := range []string{"devenv", "compose"} {
		for _, sig := range []string{"SIGTERM", "TERM", "15", "SIGINT"} {
			h.must("up")
			if tool == "devenv" {
				h.must("kill", "-s", sig, "web")
			} else if out, err := runCompose(t, h.dir, env, "kill", "-s", sig, "web"); err != nil {
				t.Fatalf("compose kill -s %s: %v %s", sig, err, out)
			}
			deadline := time.Now().Add(10 * time.Second)
			state, code := exitCode("web")
			for state == "running" && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				state, code = exitCode("web")
			}
			results[tool+" "+sig] = fmt.Sprintf("%s %d", state, code)
		}
	}
	for _, sig := range []string{"SIGTERM", "TERM", "15", "SIGINT"} {
		if results["devenv "+sig] != results["compose "+sig] {
			t.Errorf("kill -s %s: devenv %s, compose %s", sig, results["devenv "+sig], results["compose "+sig])
		}
	}
	// down --rmi all removes the services' image (here a tag of its own).
	hasImage := func() bool { _, err := c.ImageInspect(ctx, own); return err == nil }
	h.must("up")
	h.must("down", "--rmi", "all")
	devenvGone := !hasImage()
	c.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: own})
	if out, err := runCompose(t, h.dir, env, "up", "-d"); err != nil {
		t.Fatal(err, out)
	}
	if out, err := runCompose(t, h.dir, env, "down", "--rmi", "all"); err != nil {
		t.Fatal(err, out)
	}
	if composeGone := !hasImage(); !devenvGone || !composeGone {
		t.Errorf("down --rmi all: image removed by devenv %v, by compose %v", devenvGone, composeGone)
	}
	if !func() bool { _, err := c.ImageInspect(ctx, image); return err == nil }() {
		t.Error("down --rmi all removed the image by its other name too")
	}
}

// syncWriter lets a test read what another goroutine writes.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestIntegrationComposeNoRecreateAndStartWait: up --no-recreate keeps a
// changed container as compose's does, and start --wait returns once the
// services are healthy, as compose's.
func TestIntegrationComposeNoRecreateAndStartWait(t *testing.T) {
	composeV2(t)
	c, image, h, project := serverProject(t)
	api, web := freePort(t), freePort(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, api, web, ""))
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	h.must("up")
	before := containerIDs(t, c, project)
	h.write("docker-compose.dev.yml", twoServices(image, project, api, web, "\n      EXTRA: \"1\""))
	for _, tool := range []string{"devenv", "compose"} {
		if tool == "devenv" {
			h.must("up", "--no-recreate")
		} else if out, err := runCompose(t, h.dir, env, "up", "-d", "--no-recreate"); err != nil {
			t.Fatal(err, out)
		}
		if after := containerIDs(t, c, project); !reflect.DeepEqual(after, before) {
			t.Fatalf("%s up --no-recreate recreated: %v → %v", tool, before, after)
		}
	}
	for _, tool := range []string{"devenv", "compose"} {
		h.must("stop")
		if tool == "devenv" {
			h.must("start", "--wait")
		} else if out, err := runCompose(t, h.dir, env, "start", "--wait"); err != nil {
			t.Fatal(err, out)
		}
		// Healthy: the healthcheck's own URL answers (devenv runs the
		// healthcheck itself, before the engine's first scheduled probe).
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", api))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s start --wait returned before api was healthy: %v %v", tool, resp, err)
		}
		resp.Body.Close()
	}
	h.must("down")
}

// TestIntegrationComposeAttachedUp: up --abort-on-container-exit
// --exit-code-from follows the output and exits with the service's code,
// stopping the rest, as compose's attached up; Ctrl-C stops and exits 130.
func TestIntegrationComposeAttachedUp(t *testing.T) {
	composeV2(t)
	c := testbed.Engine(t)
	testbed.RequireImages(t, "redis:7")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  cache:
    image: redis:7
  tests:
    image: redis:7
    command: ["sh", "-c", "echo running tests; sleep 1; echo tests done; exit 3"]
    depends_on: [cache]
`, project))
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	state := func(svc string) string {
		ins, err := c.ContainerInspect(context.Background(), project+"-"+svc+"-1", client.ContainerInspectOptions{})
		if err != nil {
			return "gone"
		}
		return string(ins.Container.State.Status)
	}
	args := []string{"up", "--abort-on-container-exit", "--exit-code-from", "tests"}
	r := h.run(args...)
	cmpOut, cmpErr := runCompose(t, h.dir, env, args...)
	ee, _ := cmpErr.(*exec.ExitError)
	if ee == nil || r.code != ee.ExitCode() || r.code != 3 {
		t.Fatalf("exit codes: devenv %d, compose %v\n%s", r.code, cmpErr, r)
	}
	for _, out := range []string{r.stdout, cmpOut} {
		if !strings.Contains(out, "tests-1  | running tests") || !strings.Contains(out, "tests-1  | tests done") {
			t.Errorf("attached output:\n%s", out)
		}
	}
	if state("cache") != "exited" {
		t.Errorf("cache after the abort: %s", state("cache"))
	}
	if r = h.run("up", "-d", "--abort-on-container-exit"); r.code != 2 {
		t.Fatalf("-d with --abort-on-container-exit: %s", r)
	}
	// A one-shot dependency that completes first does not end the session:
	// only the named service is watched.
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  migrate:
    image: redis:7
    command: ["sh", "-c", "echo migrated"]
  tests:
    image: redis:7
    command: ["sh", "-c", "sleep 1; echo tests done; exit 4"]
    depends_on: {migrate: {condition: service_completed_successfully}}
`, project))
	args = []string{"up", "tests", "--exit-code-from", "tests", "--remove-orphans"}
	r = h.run(args...)
	_, cmpErr = runCompose(t, h.dir, env, args...)
	ee, _ = cmpErr.(*exec.ExitError)
	if ee == nil || r.code != ee.ExitCode() || r.code != 4 || !strings.Contains(r.stdout, "tests-1  | tests done") {
		t.Fatalf("exit code with a one-shot dependency: devenv %d, compose %v\n%s", r.code, cmpErr, r)
	}
	h.write("docker-compose.dev.yml", fmt.Sprintf(`name: %s
services:
  cache:
    image: redis:7
`, project))
	// Ctrl-C: the services stop, exit 130.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(3 * time.Second); cancel() }()
	if r = h.runCtx(ctx, "up", "--attach", "cache", "--remove-orphans"); r.code != 130 || !strings.Contains(r.stdout, "cache-1") {
		t.Fatalf("attached up, interrupted: %s", r)
	}
	if state("cache") != "exited" {
		t.Errorf("cache after Ctrl-C: %s", state("cache"))
	}
	h.must("down")
}
