package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/moby/moby/client"
	"go.yaml.in/yaml/v3"
)

// composeV2 returns the command of a docker compose v2+ plugin. Without
// one the test skips, and fails under DEVENV_REQUIRE_DOCKER=1: CI installs
// the reference compose (../shared/tools/docker-compose) as the plugin.
func composeV2(t testing.TB) []string {
	t.Helper()
	if testing.Short() && !testbed.Required() {
		t.Skip("-short: skipping a comparison with docker compose")
	}
	out, err := exec.Command("docker", "compose", "version", "--short").CombinedOutput()
	if err != nil || strings.HasPrefix(strings.TrimSpace(string(out)), "1.") {
		msg := "no docker compose v2 plugin installed: install ../shared/tools/docker-compose as ~/.docker/cli-plugins/docker-compose"
		if testbed.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return []string{"docker", "compose"}
}

func runCompose(t testing.TB, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	base := composeV2(t)
	cmd := exec.Command(base[0], append(base[1:], args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: errb.Bytes()}
	}
	return out.String(), nil
}

// TestComposeConfigMatches compares `devenv config` with `docker compose
// config` on the example project and the valid fixtures.
func TestIntegrationComposeConfigMatches(t *testing.T) {
	composeV2(t)
	files, _ := filepath.Glob(filepath.Join(testbed.Root(), "compose", "testdata", "valid-*.yml"))
	files = append(files, filepath.Join(testbed.Root(), "examples", "enforcement", "docker-compose.dev.yml"))
	for _, f := range files {
		for _, format := range []string{"json", "yaml"} {
			t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)+"/"+format, func(t *testing.T) {
				want, err := runCompose(t, filepath.Dir(f), nil, "-f", f, "-p", "cmp", "config", "--format", format)
				if err != nil {
					t.Fatalf("docker compose config: %v %s", err, err.(*exec.ExitError).Stderr)
				}
				h := newHarness(t)
				r := h.run("-f", f, "-p", "cmp", "config", "--format", format)
				if r.code != 0 {
					t.Fatal(r)
				}
				if strings.TrimSpace(r.stdout) != strings.TrimSpace(want) {
					t.Fatalf("devenv config differs from docker compose config:\n--- compose\n%s\n--- devenv\n%s", want, r.stdout)
				}
			})
		}
	}
}

// TestIntegrationComposeHashesPinned recomputes with docker compose the
// hashes compose/testdata/compose-hashes.txt pins, so the pinned values are
// compose's, not devenv's.
func TestIntegrationComposeHashesPinned(t *testing.T) {
	composeV2(t)
	pinned := mustRead(t, filepath.Join(testbed.Root(), "compose", "testdata", "compose-hashes.txt"))
	for _, line := range strings.Split(pinned, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasPrefix(line, "#") {
			continue
		}
		out, err := runCompose(t, testbed.Root(), []string{"COMPOSE_PROFILES="}, "-f", f[0], "-p", "cmp", "config", "--hash", f[1])
		if err != nil {
			t.Fatalf("%s: %v", f[0], err)
		}
		if got := strings.TrimSpace(out); got != f[1]+" "+f[2] {
			t.Errorf("docker compose says %q for %s, the pinned value is %s", got, f[0], f[2])
		}
	}
}

// TestIntegrationComposeInterop: on an unchanged file whose ports name
// their address, docker compose up -d after devenv up recreates nothing,
// devenv up after docker compose up -d recreates nothing, and devenv ps
// shows compose's containers.
func TestIntegrationComposeInterop(t *testing.T) {
	composeV2(t)
	c, image, h, project := serverProject(t)
	file := twoServices(image, project, freePort(t), freePort(t), "")
	file = strings.ReplaceAll(file, `ports: ["`, `ports: ["127.0.0.1:`)
	h.write("docker-compose.dev.yml", file)
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}

	h.must("up")
	before := containerIDs(t, c, project)
	if _, err := runCompose(t, h.dir, env, "up", "-d", "--wait"); err != nil {
		t.Fatal(err)
	}
	if after := containerIDs(t, c, project); before["api"] != after["api"] || before["web"] != after["web"] {
		t.Fatalf("docker compose recreated devenv's containers: %v → %v", before, after)
	}
	if _, err := runCompose(t, h.dir, env, "down"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCompose(t, h.dir, env, "up", "-d", "--wait"); err != nil {
		t.Fatal(err)
	}
	before = containerIDs(t, c, project)
	r := h.must("ps")
	if !strings.Contains(r.stdout, project+"-api-1") {
		t.Fatalf("devenv ps does not show compose's containers:\n%s", r)
	}
	h.must("up")
	if after := containerIDs(t, c, project); before["api"] != after["api"] || before["web"] != after["web"] {
		t.Fatalf("devenv recreated compose's containers: %v → %v", before, after)
	}
}

// TestIntegrationComposeExampleRoundTrip runs the example both ways. After
// devenv up, docker compose up -d recreates nothing. After docker compose
// up -d (ports on all interfaces), devenv up recreates the containers on
// 127.0.0.1 keeping the data, and a following docker compose up -d again
// recreates nothing: the config hashes agree.
func TestIntegrationComposeExampleRoundTrip(t *testing.T) {
	composeV2(t)
	h, c := exampleHarness(t)
	h.must("up")
	before := containerIDs(t, c, "sertantai-enforcement")
	if out, err := runCompose(t, h.dir, nil, "-f", "docker-compose.dev.yml", "up", "-d", "--wait"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if after := containerIDs(t, c, "sertantai-enforcement"); !sameIDs(before, after) {
		t.Fatalf("docker compose recreated devenv's containers: %v → %v", before, after)
	}
	if _, err := runCompose(t, h.dir, nil, "-f", "docker-compose.dev.yml", "down"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCompose(t, h.dir, nil, "-f", "docker-compose.dev.yml", "up", "-d", "--wait"); err != nil {
		t.Fatal(err)
	}
	psql := func(sql string) string {
		t.Helper()
		out, err := exec.Command("docker", "exec", "ehs_dev_postgres", "psql", "-U", "postgres", "-d", "sertantai_enforcement_dev", "-tAc", sql).CombinedOutput()
		if err != nil {
			t.Fatalf("psql %s: %v %s", sql, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	psql("create table kept (v text); insert into kept values ('still here')")
	h.must("up")
	if got := h.must("port", "postgres", "5432").stdout; strings.TrimSpace(got) != "127.0.0.1:5434" {
		t.Fatalf("after devenv up postgres is published on %q", got)
	}
	if got := psql("select v from kept"); got != "still here" {
		t.Fatalf("data lost: %q", got)
	}
	before = containerIDs(t, c, "sertantai-enforcement")
	if _, err := runCompose(t, h.dir, nil, "-f", "docker-compose.dev.yml", "up", "-d", "--wait"); err != nil {
		t.Fatal(err)
	}
	if after := containerIDs(t, c, "sertantai-enforcement"); !sameIDs(before, after) {
		t.Fatalf("docker compose recreated devenv's containers: %v → %v", before, after)
	}
	h.must("down")
}

func sameIDs(a, b map[string]string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestIntegrationComposeConfigListings: config --services, --volumes,
// --images, --profiles and --hash list what docker compose lists (compose
// prints some in map order, so as sets).
func TestIntegrationComposeConfigListings(t *testing.T) {
	composeV2(t)
	files := []string{filepath.Join(testbed.Root(), "examples", "enforcement", "docker-compose.dev.yml"), filepath.Join(testbed.Root(), "compose", "testdata", "valid-profiles.yml"), filepath.Join(testbed.Root(), "compose", "testdata", "valid-networks.yml")}
	for _, f := range files {
		for _, flag := range [][]string{{"--services"}, {"--volumes"}, {"--images"}, {"--profiles"}, {"--hash", "*"}, {"-q"}} {
			args := append([]string{"-f", f, "-p", "cmp", "config"}, flag...)
			want, err := runCompose(t, filepath.Dir(f), []string{"COMPOSE_PROFILES="}, args...)
			if err != nil {
				t.Fatalf("compose %v: %v", args, err)
			}
			h := newHarness(t)
			r := h.run(args...)
			if r.code != 0 {
				t.Fatalf("devenv %v: %s", args, r)
			}
			sorted := func(s string) string {
				l := strings.Fields(strings.ReplaceAll(s, " ", "="))
				slices.Sort(l)
				return strings.Join(l, " ")
			}
			if sorted(r.stdout) != sorted(want) {
				t.Errorf("%s config %v:\n--- compose\n%s--- devenv\n%s", filepath.Base(f), flag, want, r.stdout)
			}
		}
	}
	h := newHarness(t)
	out := filepath.Join(h.dir, "resolved.yml")
	h.must("-f", files[0], "config", "-o", out)
	if !strings.Contains(mustRead(t, out), "ehs_dev_postgres") {
		t.Fatal("config -o wrote nothing useful")
	}
}

// TestIntegrationComposePsAndLogsFlags: ps --services/--status/--filter
// and logs --timestamps/--since/--until select as docker compose does on
// the same project.
func TestIntegrationComposePsAndLogsFlags(t *testing.T) {
	composeV2(t)
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	h.must("up")
	h.must("stop", "web")
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	sorted := func(s string) string { l := strings.Fields(s); slices.Sort(l); return strings.Join(l, " ") }
	for _, args := range [][]string{
		{"ps", "--services"}, {"ps", "--services", "-a"}, {"ps", "--status", "exited", "--services"},
		{"ps", "--filter", "status=running", "--services"}, {"ps", "-a", "-q", "--status", "running"},
		{"ps", "-a", "--format", "{{.Name}}={{.Service}}={{.State}}"},
	} {
		want, err := runCompose(t, h.dir, env, args...)
		if err != nil {
			t.Fatalf("compose %v: %v", args, err)
		}
		if got := h.must(args...).stdout; sorted(got) != sorted(want) {
			t.Errorf("%v:\n--- compose\n%s--- devenv\n%s", args, want, got)
		}
	}
	r := h.must("logs", "--timestamps", "--since", "1h", "--no-log-prefix", "api")
	first := strings.SplitN(strings.TrimSpace(r.stdout), "\n", 2)[0]
	if _, err := time.Parse(time.RFC3339Nano, strings.Fields(first)[0]); err != nil {
		t.Fatalf("logs --timestamps: %q", first)
	}
	if r := h.must("logs", "--until", "2000-01-01T00:00:00Z", "api"); strings.TrimSpace(r.stdout) != "" {
		t.Fatalf("logs --until 2000: %q", r.stdout)
	}
	if r := h.run("logs", "--since", "yesterday"); r.code != 2 {
		t.Fatalf("a bad --since: %s", r)
	}
	if r := h.run("ps", "--status", "sleeping"); r.code != 2 || !strings.Contains(r.stderr, "sleeping") {
		t.Fatalf("a bad --status: %s", r)
	}
	h.must("down")
}

// TestIntegrationComposeVerbs: kill, pause, unpause and rm leave the
// project's containers as docker compose's do.
func TestIntegrationComposeVerbs(t *testing.T) {
	composeV2(t)
	c, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	state := func(svc string) (string, int) {
		ins, err := c.ContainerInspect(context.Background(), project+"-"+svc+"-1", client.ContainerInspectOptions{})
		if err != nil {
			return "gone", 0
		}
		return string(ins.Container.State.Status), ins.Container.State.ExitCode
	}
	for _, tool := range []string{"devenv", "compose"} {
		do := func(args ...string) {
			t.Helper()
			if tool == "devenv" {
				h.must(args...)
				return
			}
			if out, err := runCompose(t, h.dir, env, args...); err != nil {
				t.Fatalf("compose %v: %v %s", args, err, out)
			}
		}
		h.must("up")
		do("pause", "web")
		if s, _ := state("web"); s != "paused" {
			t.Fatalf("%s pause: %s", tool, s)
		}
		do("unpause", "web")
		if s, _ := state("web"); s != "running" {
			t.Fatalf("%s unpause: %s", tool, s)
		}
		do("kill", "-s", "SIGKILL", "web")
		if s, code := state("web"); s != "exited" || code != 137 {
			t.Fatalf("%s kill: %s %d", tool, s, code)
		}
		do("rm", "-f", "web")
		if s, _ := state("web"); s != "gone" {
			t.Fatalf("%s rm: %s", tool, s)
		}
		if s, _ := state("api"); s != "running" {
			t.Fatalf("%s rm removed a running container: %s", tool, s)
		}
		do("rm", "-f", "-s", "api")
		if s, _ := state("api"); s != "gone" {
			t.Fatalf("%s rm -s: %s", tool, s)
		}
	}
	h.must("down")
}

// TestIntegrationComposeInspectVerbs: top, images and volumes show what
// docker compose shows for the same project.
func TestIntegrationComposeInspectVerbs(t *testing.T) {
	composeV2(t)
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	h.must("up")
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	sorted := func(s string) string { l := strings.Fields(s); slices.Sort(l); return strings.Join(l, " ") }
	for _, args := range [][]string{{"images", "-q"}, {"volumes", "-q"}, {"volumes", "-q", "api"}} {
		want, err := runCompose(t, h.dir, env, args...)
		if err != nil {
			t.Fatalf("compose %v: %v", args, err)
		}
		if got := h.must(args...).stdout; sorted(got) != sorted(want) || strings.TrimSpace(got) == "" {
			t.Errorf("%v:\n--- compose\n%s--- devenv\n%s", args, want, got)
		}
	}
	pids := func(out string) string {
		var l []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			f := strings.Fields(line)
			l = append(l, f[0]+":"+f[3]) // SERVICE and PID
		}
		slices.Sort(l)
		return strings.Join(l, " ")
	}
	want, err := runCompose(t, h.dir, env, "top")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.must("top").stdout; pids(got) != pids(want) {
		t.Errorf("top:\n--- compose\n%s--- devenv\n%s", want, got)
	}
	var rows []imageRow
	if err := json.Unmarshal([]byte(h.must("images", "--format", "json").stdout), &rows); err != nil || len(rows) != 2 || rows[0].Size == 0 {
		t.Fatalf("images json: %+v %v", rows, err)
	}
	h.must("down")
}

// TestIntegrationComposeEventsAndWait: events --json reports what docker
// compose's does for a restart; wait returns the exit code; down --rmi.
func TestIntegrationComposeEventsAndWait(t *testing.T) {
	composeV2(t)
	c, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	h.must("up")
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []eventJSON
	done := make(chan struct{})
	go func() {
		defer close(done)
		pr, pw := io.Pipe()
		go func() {
			runIn(ctx, h.dir, []string{"devenv", "events", "--json", "web"}, h.env, nil, pw, io.Discard)
			pw.Close()
		}()
		dec := json.NewDecoder(pr)
		for {
			var ev eventJSON
			if dec.Decode(&ev) != nil {
				return
			}
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}
	}()
	cmp := exec.CommandContext(ctx, "docker", "compose", "events", "--json", "web")
	cmp.Dir, cmp.Env = h.dir, append(os.Environ(), env...)
	var cmpOut bytes.Buffer
	cmp.Stdout = &cmpOut
	cmp.Start()
	time.Sleep(time.Second)
	if _, err := c.ContainerRestart(context.Background(), project+"-web-1", client.ContainerRestartOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	cancel()
	<-done
	cmp.Wait()
	actions := func(evs []eventJSON) string {
		var a []string
		for _, e := range evs {
			if e.Service != "web" || e.Attributes["name"] != project+"-web-1" {
				t.Errorf("event of %s/%s", e.Service, e.Attributes["name"])
			}
			a = append(a, e.Action)
		}
		return strings.Join(a, " ")
	}
	var want []eventJSON
	dec := json.NewDecoder(&cmpOut)
	for {
		var ev eventJSON
		if dec.Decode(&ev) != nil {
			break
		}
		want = append(want, ev)
	}
	mu.Lock()
	defer mu.Unlock()
	if actions(got) != actions(want) || len(got) == 0 {
		t.Fatalf("events:\n compose: %s\n devenv:  %s", actions(want), actions(got))
	}
	// wait: the exit code of the first container to stop.
	go func() {
		time.Sleep(300 * time.Millisecond)
		c.ContainerKill(context.Background(), project+"-web-1", client.ContainerKillOptions{Signal: "SIGKILL"})
	}()
	if r := h.run("wait", "web"); r.code != 137 || !strings.Contains(r.stdout, "exited with status code 137") {
		t.Fatalf("wait: %s", r)
	}
	if r := h.run("down", "--rmi", "sometimes"); r.code != 2 {
		t.Fatalf("down --rmi sometimes: %s", r)
	}
	h.must("down", "--rmi", "local")
}

// TestIntegrationComposeCreate: devenv create leaves the containers as
// compose's create does (created, not started), and compose's up then
// starts them without recreating.
func TestIntegrationComposeCreate(t *testing.T) {
	composeV2(t)
	c, image, h, project := serverProject(t)
	file := strings.ReplaceAll(twoServices(image, project, freePort(t), freePort(t), ""), `ports: ["`, `ports: ["127.0.0.1:`)
	h.write("docker-compose.dev.yml", file)
	h.must("create")
	before := containerIDs(t, c, project)
	for svc := range before {
		ins, err := c.ContainerInspect(context.Background(), project+"-"+svc+"-1", client.ContainerInspectOptions{})
		if err != nil || ins.Container.State.Status != "created" {
			t.Fatalf("%s after devenv create: %v %v", svc, ins.Container.State, err)
		}
	}
	if _, err := runCompose(t, h.dir, []string{"COMPOSE_FILE=docker-compose.dev.yml"}, "up", "-d", "--wait"); err != nil {
		t.Fatal(err)
	}
	if after := containerIDs(t, c, project); !sameIDs(before, after) {
		t.Fatalf("compose recreated devenv's created containers: %v → %v", before, after)
	}
	h.must("down")
}

// TestIntegrationStats: stats --no-stream samples each running container.
func TestIntegrationStats(t *testing.T) {
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	h.must("up")
	r := h.must("stats", "--no-stream", "--format", "json")
	var n int
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row statsRow
		if err := json.Unmarshal([]byte(line), &row); err != nil || !strings.HasPrefix(row.Name, project) || !strings.HasSuffix(row.CPUPerc, "%") || row.PIDs == "0" {
			t.Fatalf("stats row %q: %v", line, err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("stats rows: %d\n%s", n, r.stdout)
	}
	h.must("down")
}

// TestIntegrationComposeCp: cp both ways, a file and a directory, lands
// where docker compose cp puts it.
func TestIntegrationComposeCp(t *testing.T) {
	composeV2(t)
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
	h.must("up")
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	h.write("in/seed.sql", "select 1;\n")
	h.write("in/dir/a.txt", "alpha\n")
	h.must("cp", "in/seed.sql", "api:/data/")
	h.must("cp", "in/dir", "api:/data/dir")
	h.must("cp", "api:/data/seed.sql", filepath.Join(h.dir, "back.sql"))
	h.must("cp", "api:/data/dir", filepath.Join(h.dir, "backdir"))
	if mustRead(t, filepath.Join(h.dir, "back.sql")) != "select 1;\n" || mustRead(t, filepath.Join(h.dir, "backdir", "a.txt")) != "alpha\n" {
		t.Fatal("round trip through the container changed the files")
	}
	// compose reads back what devenv wrote, at the same paths.
	if _, err := runCompose(t, h.dir, env, "cp", "api:/data/dir/a.txt", filepath.Join(h.dir, "viacompose.txt")); err != nil {
		t.Fatal(err)
	}
	if mustRead(t, filepath.Join(h.dir, "viacompose.txt")) != "alpha\n" {
		t.Fatal("compose does not see devenv's copy")
	}
	// Into an existing directory: under the source's name.
	os.MkdirAll(filepath.Join(h.dir, "existing"), 0o755)
	h.must("cp", "api:/data/seed.sql", filepath.Join(h.dir, "existing"))
	if mustRead(t, filepath.Join(h.dir, "existing", "seed.sql")) != "select 1;\n" {
		t.Fatal("cp into a directory")
	}
	// "-": a tar stream on stdout, as compose's, and one read from stdin.
	tarNames := func(s string) []string {
		var names []string
		tr := tar.NewReader(strings.NewReader(s))
		for {
			hdr, err := tr.Next()
			if err != nil {
				return names
			}
			names = append(names, hdr.Name)
		}
	}
	viaCompose, err := runCompose(t, h.dir, env, "cp", "api:/data/dir", "-")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tarNames(h.must("cp", "api:/data/dir", "-").stdout), tarNames(viaCompose); !reflect.DeepEqual(got, want) || len(got) == 0 {
		t.Fatalf("cp to -: %v, compose %v", got, want)
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "fromtar.txt", Mode: 0o644, Size: 4, Typeflag: tar.TypeReg})
	tw.Write([]byte("tar\n"))
	tw.Close()
	if r := h.runStdin(tb.String(), "cp", "-", "api:/data/"); r.code != 0 {
		t.Fatalf("cp from -: %s", r)
	}
	h.must("cp", "api:/data/fromtar.txt", filepath.Join(h.dir, "fromtar.txt"))
	if mustRead(t, filepath.Join(h.dir, "fromtar.txt")) != "tar\n" {
		t.Fatal("cp from - did not land")
	}
	// -L copies what a link points to, under the link's name.
	if err := os.Symlink(filepath.Join(h.dir, "in", "seed.sql"), filepath.Join(h.dir, "link.sql")); err != nil {
		t.Fatal(err)
	}
	h.must("cp", "-L", "link.sql", "api:/data/")
	h.must("cp", "api:/data/link.sql", filepath.Join(h.dir, "linkback.sql"))
	if fi, err := os.Lstat(filepath.Join(h.dir, "linkback.sql")); err != nil || !fi.Mode().IsRegular() || mustRead(t, filepath.Join(h.dir, "linkback.sql")) != "select 1;\n" {
		t.Fatalf("cp -L: %v %v", fi, err)
	}
	if r := h.run("cp", "--index", "2", "api:/data/seed.sql", "x"); r.code != 2 {
		t.Fatalf("cp --index 2: %s", r)
	}
	if r := h.run("cp", "api:/nope", filepath.Join(h.dir, "x")); r.code == 0 {
		t.Fatalf("cp of a missing path: %s", r)
	}
	if r := h.run("cp", "a", "b"); r.code != 2 {
		t.Fatalf("cp without SERVICE: %s", r)
	}
	h.must("down")
}

// TestIntegrationComposeConfigNoInterpolate: config --no-interpolate prints
// the model with ${VAR} as written, as docker compose does (JSON to the
// byte; YAML the same document, compose folding long lines).
func TestIntegrationComposeConfigNoInterpolate(t *testing.T) {
	composeV2(t)
	for _, f := range []string{
		filepath.Join(testbed.Root(), "compose", "testdata", "valid-env-interpolation.yml"),
		filepath.Join(testbed.Root(), "examples", "enforcement", "docker-compose.dev.yml"),
	} {
		for _, format := range []string{"json", "yaml"} {
			args := []string{"-f", f, "-p", "cmp", "config", "--no-interpolate", "--format", format}
			want, err := runCompose(t, filepath.Dir(f), nil, args...)
			if err != nil {
				t.Fatal(err)
			}
			got := newHarness(t).must(args...).stdout
			if format == "json" && got != want {
				t.Errorf("%s json:\n--- compose\n%s\n--- devenv\n%s", f, want, got)
			}
			var a, b any
			yaml.Unmarshal([]byte(want), &a)
			yaml.Unmarshal([]byte(got), &b)
			if !reflect.DeepEqual(a, b) || (strings.Contains(f, "interpolation") && !strings.Contains(got, "${")) {
				t.Errorf("%s %s differs:\n--- compose\n%s\n--- devenv\n%s", f, format, want, got)
			}
		}
	}
}
