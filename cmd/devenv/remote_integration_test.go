package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/devenv-dev/devenv/orchestrator/docker"
	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/devenv-dev/devenv/orchestrator/process"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The remote tests run the example project on a second engine whose
// published ports are not on this machine's loopback (CI starts it with
// ../shared/tools/second-engine, and sshd in its namespace with
// scripts/second-engine-ssh):
//
//	DEVENV_TEST_REMOTE      its tcp:// endpoint
//	DEVENV_TEST_REMOTE_SSH  the same engine as ssh://…
//	DEVENV_TEST_REMOTE_SSH_LOG  its sshd's log (connections are counted)
//
// Unset, the tests skip; under DEVENV_REQUIRE_DOCKER=1 they fail instead.
const (
	remoteEnv       = "DEVENV_TEST_REMOTE"
	remoteSSHEnv    = "DEVENV_TEST_REMOTE_SSH"
	remoteSSHLogEnv = "DEVENV_TEST_REMOTE_SSH_LOG"
)

// remoteEngine checks the second engine answers, and returns a client for
// set-up and clean-up (always over tcp: the same engine as host).
func remoteEngine(t *testing.T, host string) *client.Client {
	t.Helper()
	tcp := os.Getenv(remoteEnv)
	if host == "" || tcp == "" {
		msg := fmt.Sprintf("%s and %s are not set: start a second engine (see .ci/run) to run the remote tests", remoteEnv, remoteSSHEnv)
		if testbed.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c, err := client.New(client.WithHost(tcp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatalf("%s=%s does not answer: %v", remoteEnv, tcp, err)
	}
	for _, ref := range []string{"postgres:15", "redis:7", "electricsql/electric:latest"} {
		if _, err := c.ImageInspect(ctx, ref); err != nil {
			t.Fatalf("image %s is missing on the second engine: start it with the example's images", ref)
		}
	}
	return c
}

// relayBinary is devenv built exactly as the README's install builds it
// (go build ./cmd/devenv: cgo on where a C compiler is, so linked
// dynamically), for the relay image; the test binary itself (race
// detector) is not what users run.
func relayBinary(t *testing.T) string {
	return buildDevenv(t)
}

// remoteExample is the example project, unchanged, pointed at the second
// engine at host. Clean-up runs down and then removes whatever the
// project left on the engine and on this machine.
func remoteExample(t *testing.T, host string) (*harness, *client.Client) {
	t.Helper()
	c := remoteEngine(t, host)
	h := newHarness(t)
	var kept []string
	for _, kv := range h.env {
		if !strings.HasPrefix(kv, "DOCKER_HOST=") {
			kept = append(kept, kv)
		}
	}
	h.env = append(kept, "DOCKER_HOST="+host, "DEVENV_RELAY_BINARY="+relayBinary(t))
	example := filepath.Join(testbed.Root(), "examples", "enforcement")
	for _, f := range []string{"docker-compose.dev.yml", "standin/go.mod", "standin/main.go"} {
		h.write(f, mustRead(t, filepath.Join(example, f)))
	}
	for _, p := range []int{4002, 5173, 5434, 5435, 3001, 6380, 6381} {
		if listening(p) {
			t.Fatalf("port %d is busy on this machine; the example needs it", p)
		}
	}
	const project = "sertantai-enforcement"
	relayLabel := docker.LabelRelayProject + "=" + project
	removeProject(c, project, relayLabel)
	t.Cleanup(func() { removeProject(c, project, relayLabel) })
	t.Cleanup(func() {
		h.run("down")
		killForwards(h)
	})
	return h, c
}

// forwardProcs are the example's forward processes on this machine (of
// any harness: the remote tests run one at a time) and this harness's
// forward supervisors, whose spec file is under the harness's HOME.
func forwardProcs(h *harness) (forwards, supervisors []int) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			s := string(kv)
			if v, ok := strings.CutPrefix(s, forward.Env+"="); ok && strings.Contains(v, `"project":"sertantai-enforcement"`) {
				forwards = append(forwards, pid)
			}
			if v, ok := strings.CutPrefix(s, process.SuperviseEnv+"="); ok && strings.HasPrefix(v, h.home()) && strings.Contains(v, forward.Name) {
				supervisors = append(supervisors, pid)
			}
		}
	}
	return forwards, supervisors
}

// killForwards ends whatever forward a failed test left behind, so the
// next test finds the example's ports free.
func killForwards(h *harness) {
	fw, sup := forwardProcs(h)
	for _, pid := range append(sup, fw...) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// psqlHere runs psql on this machine against 127.0.0.1:port (the local
// engine's postgres image, on the host network: no client is assumed).
func psqlHere(t *testing.T, port int, sql string) string {
	t.Helper()
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "postgres", "-d", "sertantai_enforcement_dev", "-tAc", sql}
	var cmd *exec.Cmd
	if path, err := exec.LookPath("psql"); err == nil {
		cmd = exec.Command(path, args...)
		cmd.Env = append(os.Environ(), "PGPASSWORD=postgres", "PGCONNECT_TIMEOUT=10")
	} else {
		cmd = exec.Command("docker", append([]string{"run", "--rm", "--network", "host", "-e", "PGPASSWORD=postgres", "postgres:15", "psql"}, args...)...)
		cmd.Env = append(os.Environ(), "DOCKER_HOST=unix:///var/run/docker.sock")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql to 127.0.0.1:%d: %v\n%s", port, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestIntegrationRemoteReferenceStack: the reference stack on a remote
// engine is reachable from this machine at its assigned ports: psql, the
// Electric shape URL, health, the env file's URLs; down frees them here
// and keeps the volumes there.
func TestIntegrationRemoteReferenceStack(t *testing.T) {
	h, c := remoteExample(t, os.Getenv(remoteEnv))
	r := h.must("up", "postgres", "electric", "redis")
	if !strings.Contains(r.stderr, "Forwarded") {
		t.Errorf("up should report the forward:\n%s", r.stderr)
	}
	if got := psqlHere(t, 5434, "select 40 + 2"); got != "42" {
		t.Fatalf("psql through the forward: %q", got)
	}
	// Over tcp a connection is a process in the relay, for as long as
	// it is open.
	held, err := net.Dial("tcp", "127.0.0.1:6380")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(held, make([]byte, 7)); err != nil {
		t.Fatal(err)
	}
	if n := relayProcesses(t, c); n != 2 {
		t.Errorf("with one connection open over tcp the relay runs %d processes, want 2 (serve, dial)", n)
	}
	held.Close()
	if code, body := httpGet(t, "http://localhost:3001/v1/shape?table=cases&offset=-1"); code != 200 {
		t.Fatalf("the Electric shape URL: %d %s", code, body)
	}
	r = h.must("port", "postgres", "5432")
	if strings.TrimSpace(r.stdout) != "127.0.0.1:5434" {
		t.Fatalf("port postgres 5432 = %q", r.stdout)
	}

	// health goes through the forwards: the same answers as a local engine.
	r = h.run("health", "--format", "json", "postgres", "electric", "redis")
	if r.code != 0 {
		t.Fatalf("health:\n%s", r)
	}
	rows := healthRows(t, r)
	for _, key := range []string{"postgres/postgres", "redis/redis", "electric/http"} {
		if rows[key].Status != "healthy" {
			t.Errorf("%s: %q (%s)", key, rows[key].Status, rows[key].Detail)
		}
	}

	// env writes localhost URLs that reach the remote services.
	h.must("env")
	content := mustRead(t, filepath.Join(h.dir, "frontend", ".env"))
	if !strings.Contains(content, "PUBLIC_ELECTRIC_URL=http://localhost:3001\n") {
		t.Fatalf(".env:\n%s", content)
	}
	if code, _ := httpGet(t, "http://localhost:3001/v1/health"); code != 200 {
		t.Fatalf("PUBLIC_ELECTRIC_URL does not reach the remote Electric: %d", code)
	}

	// A second up changes nothing and keeps the one forward.
	fw, _ := forwardProcs(h)
	r = h.must("up", "postgres", "electric", "redis")
	if strings.Contains(r.stderr, "Forwarded") {
		t.Errorf("a no-change up restarted the forward:\n%s", r.stderr)
	}
	if fw2, _ := forwardProcs(h); len(fw) != 1 || len(fw2) != 1 || fw[0] != fw2[0] {
		t.Errorf("forwards before %v, after %v: want the same one", fw, fw2)
	}

	// ps and doctor say where the ports come from.
	r = h.must("ps")
	if !strings.Contains(r.stdout, "ENGINE") || !strings.Contains(r.stdout, "tcp://10.231.0.2:2375") || !strings.Contains(r.stdout, "127.0.0.1:5434->5432/tcp (forwarded here)") {
		t.Errorf("ps should show the engine and the forwarded ports:\n%s", r.stdout)
	}
	r = h.run("doctor")
	if !strings.Contains(r.stdout, "remote") || !strings.Contains(r.stdout, "forward") {
		t.Errorf("doctor should say the engine is remote and its ports are forwarded:\n%s", r)
	}

	// stop ends the forwards; start brings them back.
	h.must("stop")
	for _, p := range []int{5434, 3001, 6380} {
		if listening(p) {
			t.Errorf("port %d still served here after stop", p)
		}
	}
	h.must("start")
	if got := psqlHere(t, 5434, "select 1"); got != "1" {
		t.Fatalf("psql after start: %q", got)
	}

	h.must("down")
	for _, p := range []int{5434, 3001, 6380} {
		if listening(p) {
			t.Errorf("port %d still served here after down", p)
		}
	}
	if fw, sup := forwardProcs(h); len(fw)+len(sup) != 0 {
		t.Errorf("forward processes left after down: %v %v", fw, sup)
	}
	ctx := context.Background()
	relays, _ := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", docker.LabelRelayProject+"=sertantai-enforcement")})
	if len(relays.Items) != 0 {
		t.Errorf("the relay outlived down: %v", relays.Items[0].Names)
	}
	vols, _ := c.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("label", "com.docker.compose.project=sertantai-enforcement")})
	if len(vols.Items) != 2 {
		t.Errorf("down must keep the remote volumes; found %d", len(vols.Items))
	}
}

// TestIntegrationRemoteHolders: a listener on this machine moves the local
// side (and the engine's port with it) and env follows; an assigned port
// held on the engine's host is found before anything is created, exit 3
// naming the engine, and --reassign moves past it.
func TestIntegrationRemoteHolders(t *testing.T) {
	h, c := remoteExample(t, os.Getenv(remoteEnv))
	ln, err := net.Listen("tcp", "127.0.0.1:5434")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The example plus an env file with the backend's database URL.
	compose := mustRead(t, filepath.Join(h.dir, "docker-compose.dev.yml"))
	h.write("docker-compose.dev.yml", strings.Replace(compose, "  env_files:\n", "  env_files:\n    backend.env:\n      DATABASE_URL: \"postgres://postgres:postgres@localhost:{postgres}/sertantai_enforcement_dev\"\n", 1))
	h.must("up", "postgres", "electric", "redis")
	r := h.must("port", "postgres", "5432")
	if strings.TrimSpace(r.stdout) != "127.0.0.1:5435" {
		t.Fatalf("postgres with 5434 held here: port = %q, want 5435", r.stdout)
	}
	if got := psqlHere(t, 5435, "select 7"); got != "7" {
		t.Fatalf("psql on the moved port: %q", got)
	}
	h.must("env")
	if env := mustRead(t, filepath.Join(h.dir, "backend.env")); !strings.Contains(env, "DATABASE_URL=postgres://postgres:postgres@localhost:5435/") {
		t.Errorf("the database URL should follow postgres to 5435:\n%s", env)
	}
	h.must("down")

	// A process on the engine's host holding redis's assigned 6380: a
	// container of no project on the host network.
	ctx := context.Background()
	holder, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "dvt-remote-holder-" + strconv.Itoa(os.Getpid()), Config: &container.Config{
		Image: "electricsql/electric:latest", Env: []string{"LISTEN=6380", "MODE="}},
		HostConfig: &container.HostConfig{NetworkMode: "host"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.Background(), holder.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := c.ContainerStart(ctx, holder.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the relay's listing is at most 250 ms old

	r = h.run("up", "postgres", "electric", "redis")
	if r.code != 3 || !strings.Contains(r.stderr, "6380") || !strings.Contains(r.stderr, "10.231.0.2") {
		t.Fatalf("up with 6380 held on the engine's host: want exit 3 naming the port and the engine:\n%s", r)
	}
	cs, _ := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", "com.docker.compose.project=sertantai-enforcement")})
	if len(cs.Items) != 0 {
		t.Fatalf("up created containers before refusing: %d", len(cs.Items))
	}
	r = h.run("ports", "check")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "6380") {
		t.Errorf("ports check should report 6380 held on the engine's host:\n%s", r)
	}
	h.must("ports", "assign", "--reassign", "redis")
	h.must("up", "postgres", "electric", "redis")
	r = h.must("port", "redis", "6379")
	if strings.TrimSpace(r.stdout) != "127.0.0.1:6381" {
		t.Fatalf("redis after --reassign: port = %q, want 6381", r.stdout)
	}
	r = h.must("port", "postgres", "5432")
	if strings.TrimSpace(r.stdout) != "127.0.0.1:5435" {
		t.Fatalf("postgres's port is sticky: %q, want 5435", r.stdout)
	}
}

// TestIntegrationRemoteKilledUp: devenv SIGKILLed in the middle of up, then
// up again, ends with the stack running and one forward; so do two ups at
// once.
func TestIntegrationRemoteKilledUp(t *testing.T) {
	h, c := remoteExample(t, os.Getenv(remoteEnv))
	cmd, errb := startDevenv(t, h, "Started", "up", "--progress", "plain", "postgres", "electric", "redis")
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !strings.Contains(errb.String(), "Started") {
		t.Fatalf("up never started a container:\n%s", errb.String())
	}
	h.must("up", "postgres", "electric", "redis")
	h.must("up", "postgres", "electric", "redis")
	fw, sup := forwardProcs(h)
	if len(fw) != 1 || len(sup) != 1 {
		t.Fatalf("after a killed up and two more: forwards %v, supervisors %v; want one each", fw, sup)
	}
	if got := psqlHere(t, 5434, "select 3"); got != "3" {
		t.Fatalf("psql: %q", got)
	}

	// Killed again where the forward starts: after the last container.
	h.must("stop")
	cmd, errb = startDevenv(t, h, "(ehs_dev_electric) Running", "up", "--progress", "plain", "postgres", "electric", "redis")
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !strings.Contains(errb.String(), "(ehs_dev_electric) Running") {
		t.Fatalf("up never got to the forward:\n%s", errb.String())
	}
	h.must("up", "postgres", "electric", "redis")
	if fw, sup := forwardProcs(h); len(fw) != 1 || len(sup) != 1 {
		t.Fatalf("after an up killed at the forward: forwards %v, supervisors %v; want one each", fw, sup)
	}

	// Two ups at once with the forward stopped and the relay gone: both
	// succeed, with one relay and one forward.
	h.must("stop")
	ctx := context.Background()
	relayFilter := client.Filters{}.Add("label", docker.LabelRelayProject+"=sertantai-enforcement")
	relays, _ := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: relayFilter})
	for _, r := range relays.Items {
		c.ContainerRemove(ctx, r.ID, client.ContainerRemoveOptions{Force: true})
	}
	codes, outs := upAtOnce(t, h, 2, "up", "postgres", "electric", "redis")
	if codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("concurrent ups: %v\n%s\n---\n%s", codes, outs[0], outs[1])
	}
	relays, _ = c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: relayFilter})
	fw, sup = forwardProcs(h)
	if len(relays.Items) != 1 || len(fw) != 1 || len(sup) != 1 {
		t.Fatalf("after two ups at once: %d relays, forwards %v, supervisors %v; want one each", len(relays.Items), fw, sup)
	}
	if got := psqlHere(t, 5434, "select 4"); got != "4" {
		t.Fatalf("psql: %q", got)
	}
}

// TestIntegrationRemoteSSH: the same engine over ssh://, one SSH
// connection per devenv run: up, psql and health through the forward. ssh
// and tcp to the engine are one engine in the registry; beside a local
// project, ports shows an ENGINE column, and ports release names the
// engine.
func TestIntegrationRemoteSSH(t *testing.T) {
	h, c := remoteExample(t, os.Getenv(remoteSSHEnv))
	h.must("up", "postgres", "electric", "redis")
	if got := psqlHere(t, 5434, "select 'ssh'"); got != "ssh" {
		t.Fatalf("psql over the ssh forward: %q", got)
	}
	if r := h.run("health", "postgres", "electric", "redis"); r.code != 0 {
		t.Fatalf("health over ssh:\n%s", r)
	}
	// At most one SSH connection for a whole no-change up (sshd logs
	// each), none while the shared master of the last command is up.
	if log := os.Getenv(remoteSSHLogEnv); log != "" {
		before := strings.Count(mustRead(t, log), "Accepted publickey")
		h.must("up", "postgres", "electric", "redis")
		h.must("ps")
		if n := strings.Count(mustRead(t, log), "Accepted publickey") - before; n > 1 {
			t.Errorf("a no-change up and a ps over ssh opened %d SSH connections, want at most 1", n)
		}
	} else if testbed.Required() {
		t.Fatalf("%s is not set", remoteSSHLogEnv)
	}
	// More connections at once than sshd's sessions per connection (10 by
	// default): each is served.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	before := 0
	if log := os.Getenv(remoteSSHLogEnv); log != "" {
		before = strings.Count(mustRead(t, log), "Accepted publickey")
	}
	for i := range 15 {
		c, err := net.Dial("tcp", "127.0.0.1:6380")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 7)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "+PONG\r\n" {
			t.Fatalf("connection %d of 15 open at once: %q, %v", i+1, buf, err)
		}
	}
	// Over ssh they are channels of the SSH connection (ssh -W): no
	// process in the relay carries them.
	if n := relayProcesses(t, c); n != 1 {
		t.Errorf("with 15 connections open over ssh the relay runs %d processes, want its one (serve)", n)
	}
	if log := os.Getenv(remoteSSHLogEnv); log != "" {
		// TCP channels are no sessions: the forward's one master carries
		// them all (its first, if this is the forward's first use).
		if n := strings.Count(mustRead(t, log), "Accepted publickey") - before; n > 1 {
			t.Errorf("15 connections through the forward opened %d SSH connections, want at most 1", n)
		}
	}

	// The same engine over tcp: the same project, ports and containers.
	tcp := *h
	tcp.env = append(append([]string{}, h.env...), "DOCKER_HOST="+os.Getenv(remoteEnv))
	r := tcp.must("up", "postgres", "electric", "redis")
	if strings.Contains(r.stderr, "Recreat") || strings.Contains(r.stderr, "Creat") {
		t.Errorf("up over tcp after ssh changed containers:\n%s", r.stderr)
	}
	if got := psqlHere(t, 5434, "select 2"); got != "2" {
		t.Fatalf("psql after the switch to tcp: %q", got)
	}
	reg := mustRead(t, h.registry)
	if n := strings.Count(reg, `"name":"sertantai-enforcement"`); n != 1 {
		t.Fatalf("ssh and tcp to one engine must be one registry entry, found %d:\n%s", n, reg)
	}

	// A local project beside it, in the same registry.
	local := newHarness(t)
	local.registry = h.registry
	for i, kv := range local.env {
		switch {
		case strings.HasPrefix(kv, "DEVENV_REGISTRY="):
			local.env[i] = "DEVENV_REGISTRY=" + h.registry
		case strings.HasPrefix(kv, "HOME="):
			local.env[i] = "HOME=" + h.home() // one user: one state directory
		}
	}
	local.write("docker-compose.dev.yml", "name: dvt-remote-local\nservices:\n  web:\n    image: redis:7\n    ports: [\"6380:6379\"]\n")
	cleanupProject(t, testbed.Engine(t), "dvt-remote-local")
	local.must("up")
	// Each side's check: the local project's container is the local
	// engine's proxy on this machine, the remote one's the forward.
	h.must("ports", "check")
	local.must("ports", "check")
	r = local.must("ports")
	if !strings.Contains(r.stdout, "ENGINE") || !strings.Contains(r.stdout, "local") || !strings.Contains(r.stdout, "ssh://devenv-remote-ssh") && !strings.Contains(r.stdout, os.Getenv(remoteEnv)) {
		t.Errorf("ports over two engines should show an ENGINE column:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "127.0.0.1:6381/tcp") {
		t.Errorf("the local project must not get the remote project's 6380 (forwarded here):\n%s", r.stdout)
	}
	r = local.must("ls", "--all")
	if !strings.Contains(r.stdout, "ENGINE") {
		t.Errorf("ls over two engines should show an ENGINE column:\n%s", r.stdout)
	}

	h.must("down")
	for _, p := range []int{5434, 3001, 6380} {
		if listening(p) {
			t.Errorf("port %d still served here after down", p)
		}
	}
	if r := local.run("ports", "release", "sertantai-enforcement"); r.code != 2 || !strings.Contains(r.stderr, "--engine") {
		t.Fatalf("release of a project on another engine should ask for --engine:\n%s", r)
	}
	local.must("ports", "release", "--engine", os.Getenv(remoteEnv), "sertantai-enforcement")
	if reg := mustRead(t, h.registry); strings.Contains(reg, `"name":"sertantai-enforcement"`) || !strings.Contains(reg, `"name":"dvt-remote-local"`) {
		t.Fatalf("release --engine should drop the remote project only:\n%s", reg)
	}
}

// relayProcesses counts the processes in the example's relay.
func relayProcesses(t *testing.T, c *client.Client) int {
	t.Helper()
	ctx := context.Background()
	relays, err := c.ContainerList(ctx, client.ContainerListOptions{Filters: client.Filters{}.Add("label", docker.LabelRelayProject+"=sertantai-enforcement")})
	if err != nil || len(relays.Items) != 1 {
		t.Fatalf("the relay: %v, %d running", err, len(relays.Items))
	}
	top, err := c.ContainerTop(ctx, relays.Items[0].ID, client.ContainerTopOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(top.Processes)
}

// TestIntegrationRemoteSSHWithoutForwarding: where sshd forwards no TCP
// (AllowTcpForwarding no), the forward carries connections through the
// relay instead.
func TestIntegrationRemoteSSHWithoutForwarding(t *testing.T) {
	host := os.Getenv(remoteSSHEnv)
	if host != "" {
		host += "-nofwd" // scripts/second-engine-ssh's alias for that user
	}
	h, c := remoteExample(t, host)
	h.must("up", "redis")
	conn, err := net.Dial("tcp", "127.0.0.1:6380")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	conn.Write([]byte("PING\r\n"))
	buf := make([]byte, 7)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "+PONG\r\n" {
		t.Fatalf("redis through the relay: %q, %v", buf, err)
	}
	if n := relayProcesses(t, c); n != 2 {
		t.Errorf("with one connection open the relay runs %d processes, want 2 (serve, dial)", n)
	}
}

// TestIntegrationRemoteBadRelayBinary: a relay binary that cannot run in
// the engine (not a Linux executable) is a configuration error naming it:
// exit 2, nothing created there, nothing reserved here.
func TestIntegrationRemoteBadRelayBinary(t *testing.T) {
	h, c := remoteExample(t, os.Getenv(remoteEnv))
	dynamic := filepath.Join(t.TempDir(), "devenv")
	if err := os.WriteFile(dynamic, []byte("#!/bin/sh\nexec devenv \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.env = append(h.env, "DEVENV_RELAY_BINARY="+dynamic)
	r := h.run("up", "postgres", "electric", "redis")
	if r.code != 2 || !strings.Contains(r.stderr, "DEVENV_RELAY_BINARY") || !strings.Contains(r.stderr, dynamic) {
		t.Fatalf("up with a dynamic relay binary: want exit 2 naming it and DEVENV_RELAY_BINARY:\n%s", r)
	}
	ctx := context.Background()
	for _, label := range []string{"com.docker.compose.project=sertantai-enforcement", docker.LabelRelayProject + "=sertantai-enforcement"} {
		cs, _ := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", label)})
		if len(cs.Items) != 0 {
			t.Errorf("%d containers labelled %s after the refusal", len(cs.Items), label)
		}
	}
	if _, err := os.Stat(h.registry); err == nil && strings.Contains(mustRead(t, h.registry), "sertantai-enforcement") {
		t.Errorf("the refused up reserved ports:\n%s", mustRead(t, h.registry))
	}
}
