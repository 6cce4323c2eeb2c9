package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/process"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/moby/moby/client"
)

// TestMain lets the test binary stand in for a plain host process that
// holds a port (DEVENV_TEST_HOLD_PORT).
func TestMain(m *testing.M) {
	// The test binary is devenv here: it supervises host services too.
	if spec := os.Getenv(process.SuperviseEnv); spec != "" {
		os.Exit(process.Supervise(spec))
	}
	if code, ok := special(os.Args); ok {
		os.Exit(code)
	}
	if os.Getenv("DEVENV_TEST_HTTP_SERVE") != "" {
		// A host service's HTTP server: it says who it is and what it was
		// given, on its PORT.
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "host=%s proto=%s ca=%s vite=%s", r.Host, r.Header.Get("X-Forwarded-Proto"), os.Getenv("NODE_EXTRA_CA_CERTS"), os.Getenv("__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS"))
		})
		fmt.Println("serving on", os.Getenv("PORT"))
		fmt.Println(http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil))
		os.Exit(1)
	}
	if port := os.Getenv("DEVENV_TEST_HOLD_PORT"); port != "" {
		ln, err := net.Listen("tcp", "0.0.0.0:"+port)
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		fmt.Println("ok")
		time.Sleep(2 * time.Minute)
		ln.Close()
		os.Exit(0)
	}
	// Anonymous volumes the tests' containers leave (down keeps them, as
	// compose's does) are removed at the end; no other volume is touched.
	removeVolumes := testbed.TrackAnonymousVolumes(fmt.Sprintf("dvt-%d-", os.Getpid()%100000))
	code := m.Run()
	removeVolumes()
	os.Exit(code)
}

// result is one devenv run.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// harness runs devenv in-process in a project directory with its own
// registry file.
type harness struct {
	t        testing.TB
	dir      string
	registry string
	env      []string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, registry: filepath.Join(t.TempDir(), "cfg", "registry.yaml")}
	// The names proxy is the proxy tests' business; the others leave it off.
	h.env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "DEVENV_REGISTRY=" + h.registry, "PWD=" + dir, "DEVENV_PROXY=off"}
	if v := os.Getenv("DOCKER_HOST"); v != "" {
		h.env = append(h.env, "DOCKER_HOST="+v)
	}
	return h
}

// write puts a file into the project directory.
func (h *harness) write(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) run(args ...string) result {
	return h.runCtx(context.Background(), args...)
}

func (h *harness) runCtx(ctx context.Context, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	dir := h.dir
	for _, kv := range h.env {
		if d, ok := strings.CutPrefix(kv, "PWD="); ok {
			dir = d // the directory this run is "in"
		}
	}
	code := runIn(ctx, dir, append([]string{"devenv"}, args...), h.env, strings.NewReader(""), &out, &errb)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

func (h *harness) must(args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("devenv %s: %s", strings.Join(args, " "), r)
	}
	return r
}

var projectSeq atomic.Int64

// projectName is unique per test run, so tests never see each other's
// containers.
func projectName(t testing.TB) string {
	return fmt.Sprintf("dvt-%d-%d", os.Getpid()%100000, projectSeq.Add(1))
}

// cleanupProject removes everything labelled for the project at the end of
// the test, including volumes.
func cleanupProject(t testing.TB, c *client.Client, project string) {
	t.Cleanup(func() { removeProject(c, project) })
}

// removeProject removes the project's containers (and those carrying any
// of the extra labels), networks and volumes.
func removeProject(c *client.Client, project string, extra ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := client.Filters{}.Add("label", "com.docker.compose.project="+project)
	for _, label := range append([]string{"com.docker.compose.project=" + project}, extra...) {
		cs, _ := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", label)})
		for _, ct := range cs.Items {
			_, _ = c.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		}
	}
	ns, _ := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	for _, n := range ns.Items {
		_, _ = c.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
	}
	vs, _ := c.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	for _, v := range vs.Items {
		_, _ = c.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true})
	}
}

// upAtOnce runs n devenv processes with args at once in the harness's
// project, and returns their exit codes and outputs.
func upAtOnce(t *testing.T, h *harness, n int, args ...string) ([]int, []string) {
	t.Helper()
	devenv := buildDevenv(t)
	var wg sync.WaitGroup
	outs, codes := make([]string, n), make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(devenv, args...)
			cmd.Dir, cmd.Env = h.dir, h.env
			out, err := cmd.CombinedOutput()
			outs[i] = string(out)
			if ee, ok := err.(*exec.ExitError); ok {
				codes[i] = ee.ExitCode()
			}
		}()
	}
	wg.Wait()
	return codes, outs
}

// freePort returns a TCP port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	for {
		p := 20000 + int(projectSeq.Add(1)*7+int64(os.Getpid()%5000))%30000
		if !listening(p) {
			return p
		}
	}
}

// serverProject is the usual start of a real-engine test: the engine, the
// test server image, a harness and a project name cleaned up afterwards.
func serverProject(t testing.TB) (*client.Client, string, *harness, string) {
	t.Helper()
	c := testbed.Engine(t)
	image := testbed.ServerImage(t)
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	return c, image, h, project
}

// startDevenv runs the built devenv binary in the harness's project and
// returns once stderr shows waitFor.
func startDevenv(t *testing.T, h *harness, waitFor string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(buildDevenv(t), args...)
	cmd.Dir, cmd.Env = h.dir, h.env
	errb := &syncBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(errb.String(), waitFor) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, errb
}

// assertOnlyLabelled fails if a container named like the project lacks its
// labels.
func assertOnlyLabelled(t *testing.T, c *client.Client, project string) {
	t.Helper()
	all, _ := c.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("name", project)})
	for _, ct := range all.Items {
		if ct.Labels["com.docker.compose.project"] != project {
			t.Fatalf("unlabelled container left: %v", ct.Names)
		}
	}
}

// home is the HOME the harness gives devenv.
func (h *harness) home() string {
	for _, kv := range h.env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			return v
		}
	}
	return ""
}

// built is a program of this repository, built once per test run.
type built struct {
	once sync.Once
	path string
	err  error
}

// get builds pkg (with env added to the build's environment) the first
// time, and returns the binary's path.
func (b *built) get(t testing.TB, name, pkg string, env ...string) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "devenv-built")
		if err != nil {
			b.err = err
			return
		}
		path := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-trimpath", "-o", path, pkg)
		cmd.Dir, cmd.Env = testbed.Root(), append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build %s: %v\n%s", pkg, err, out)
			return
		}
		b.path = path
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
