package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/devenv-dev/devenv/internal/testbed"
)

// TestIntegrationBadInputs runs devenv on bad input of every kind: each gets
// its documented exit code, a message naming the file, service or port, and
// leaves the registry and the engine as they were.
func TestIntegrationBadInputs(t *testing.T) {
	c := testbed.Engine(t)
	image := testbed.ServerImage(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	good := fmt.Sprintf("name: %s\nservices:\n  web:\n    image: %s\n    ports: [\"%d:8080\"]\n  extra:\n    image: %s\n    profiles: [debug]\n", project, image, freePort(t), image)
	goodRegistry := "version: 1\nprojects:\n  - name: someone\n    directory: /src/someone\n    reservations:\n      - {service: db, role: postgres, target: 5432, port: 5999, protocol: tcp}\n"

	type tc struct {
		name     string
		file     string   // compose file content ("" = good)
		registry string   // registry content ("" = goodRegistry)
		args     []string // devenv arguments
		env      []string
		prepare  func(h *harness)
		code     int
		want     []string
	}
	cases := []tc{
		{name: "malformed yaml", file: "services:\n  web:\n    image: x\n   ports: []\n", args: []string{"up"}, code: 2, want: []string{"docker-compose.dev.yml"}},
		{name: "unknown key", file: "services:\n  web:\n    image: x\n    portz: []\n", args: []string{"up"}, code: 2, want: []string{"docker-compose.dev.yml", "services.web", "portz"}},
		{name: "port 99999", file: "services:\n  web:\n    image: x\n    ports: [\"99999:80\"]\n", args: []string{"up"}, code: 2, want: []string{"docker-compose.dev.yml", "services.web.ports[0]", "99999"}},
		{name: "protocol 80/xyz", file: "services:\n  web:\n    image: x\n    ports: [\"80:80/xyz\"]\n", args: []string{"up"}, code: 2, want: []string{"services.web.ports[0]", "xyz"}},
		{name: "duplicate host port", file: "services:\n  a:\n    image: x\n    ports: [\"8080:80\"]\n  b:\n    image: x\n    ports: [\"8080:81\"]\n", args: []string{"up"}, code: 2, want: []string{"8080/tcp is published twice"}},
		{name: "unset port variable", file: "services:\n  db:\n    image: x\n    ports: [\"${NO_SUCH_PORT}:5432\"]\n", args: []string{"up"}, code: 2, want: []string{"services.db.ports[0]", "NO_SUCH_PORT"}},
		{name: "bad project name", args: []string{"-p", "../x", "up"}, code: 2, want: []string{"../x", "not a valid project name"}},
		{name: "unknown service", args: []string{"up", "nosuch"}, code: 2, want: []string{"no such service: nosuch"}},
		{name: "missing compose file", args: []string{"-f", "nope.yml", "up"}, code: 2, want: []string{"nope.yml"}},
		{name: "x-devenv unknown key", file: "x-devenv:\n  stak: x\nservices:\n  a:\n    image: x\n", args: []string{"up"}, code: 2, want: []string{"x-devenv", "stak"}},
		{name: "x-devenv env file outside", file: "x-devenv:\n  env_files:\n    ../x/.env: {A: b}\nservices:\n  a:\n    image: x\n", args: []string{"env"}, code: 2, want: []string{"x-devenv.env_files", "leaves the project directory"}},
		{name: "x-devenv host port", file: "x-devenv:\n  host:\n    api: {port: 0}\nservices:\n  a:\n    image: x\n", args: []string{"up"}, code: 2, want: []string{"x-devenv.host.api.port"}},
		{name: "x-devenv placeholder", file: "x-devenv:\n  env_files:\n    .env: {A: \"{zz}\"}\nservices:\n  a:\n    image: x\n", args: []string{"env"}, code: 2, want: []string{"x-devenv.env_files..env.A", "zz"}},
		{name: "unknown flag", args: []string{"up", "--bogus"}, code: 2, want: []string{"bogus"}},
		{name: "bad --pull", args: []string{"up", "--pull", "sometimes"}, code: 2, want: []string{"--pull", "sometimes"}},
		{name: "bad --format", args: []string{"ps", "--format", "xml"}, code: 2, want: []string{"--format", "xml"}},
		{name: "bad --progress", args: []string{"--progress", "loud", "ps"}, code: 2, want: []string{"--progress", "loud"}},
		{name: "ports why not a port", args: []string{"ports", "why", "http"}, code: 2, want: []string{"port number"}},
		{name: "logs --tail x", args: []string{"logs", "--tail", "x"}, code: 2, want: []string{"--tail"}},
		{name: "unknown command", args: []string{"upp"}, code: 2, want: []string{"upp"}},
		{name: "port of unknown service", args: []string{"port", "nosuch", "80"}, code: 2, want: []string{"nosuch"}},
		{name: "corrupt registry", registry: "version: 1\nprojects: [\n", args: []string{"ports", "assign"}, code: 2, want: []string{"registry.yaml", "line"}},
		{name: "corrupt registry on up", registry: "version: 1\nprojects: [\n", args: []string{"up"}, code: 2, want: []string{"registry.yaml", "line"}},
		{name: "newer registry", registry: "version: 9\nsomething_new: true\n", args: []string{"up"}, code: 2, want: []string{"registry.yaml", "newer"}},
		{name: "group-writable registry", prepare: func(h *harness) { os.Chmod(h.registry, 0o664) }, args: []string{"ports", "assign"}, code: 2, want: []string{"registry.yaml", "writable by group"}},
		{name: "registry of another user", prepare: func(h *harness) { os.Chown(h.registry, 65534, 65534) }, args: []string{"ports", "assign"}, code: 2, want: []string{"registry.yaml", "owned by uid 65534"}},
		{name: "registry is a symlink", prepare: func(h *harness) {
			real := h.registry + ".real"
			os.Rename(h.registry, real)
			os.Symlink(real, h.registry)
		}, args: []string{"ports", "assign"}, code: 2, want: []string{"registry.yaml", "symlink"}},
		{name: "env file is a symlink", file: fmt.Sprintf("name: %s\nx-devenv:\n  host:\n    api: {port: 4999}\n  env_files:\n    .env: {A: \"{api}\"}\nservices: {}\n", project),
			prepare: func(h *harness) { os.Symlink("/etc/hostname", filepath.Join(h.dir, ".env")) }, args: []string{"env"}, code: 2, want: []string{".env", "symlink"}},
		{name: "bad lock timeout", env: []string{"DEVENV_LOCK_TIMEOUT=soon"}, args: []string{"ports", "assign"}, code: 2, want: []string{"DEVENV_LOCK_TIMEOUT", "soon"}},
		{name: "daemon down", env: []string{"DOCKER_HOST=unix:///tmp/devenv-no-such.sock"}, args: []string{"ps"}, code: 4, want: []string{"unix:///tmp/devenv-no-such.sock", "DOCKER_HOST"}},
		{name: "unknown docker context", env: []string{"DOCKER_CONTEXT=nosuch"}, args: []string{"up"}, code: 4, want: []string{`docker context "nosuch" not found`}},
		{name: "engine address not a URL", env: []string{"DOCKER_HOST=nonsense"}, args: []string{"version"}, code: 4, want: []string{"nonsense", "DOCKER_HOST"}},
		{name: "strict port held by a registry project", file: fmt.Sprintf("name: %s\nservices:\n  db:\n    image: %s\n    ports: [\"5999:5432\"]\n", project, image), args: []string{"up", "--strict-ports"}, code: 3, want: []string{"5999", "reserved by someone"}},
		{name: "missing image with --pull never", file: fmt.Sprintf("name: %s\nservices:\n  db:\n    image: devenv-test/no-such-image:1\n", project), args: []string{"up", "--pull", "never"}, code: 2, want: []string{"services.db.image", "devenv-test/no-such-image:1"}},
		{name: "image that cannot be pulled", file: fmt.Sprintf("name: %s\nservices:\n  db:\n    image: devenv-test/no-such-image:1\n  web:\n    image: %s\n", project, image), args: []string{"up"}, code: 1, want: []string{"service db: pull image devenv-test/no-such-image:1"}},
	}
	for _, c2 := range cases {
		t.Run(c2.name, func(t *testing.T) {
			h := newHarness(t)
			file := c2.file
			if file == "" {
				file = good
			}
			h.write("docker-compose.dev.yml", file)
			reg := c2.registry
			if reg == "" {
				reg = goodRegistry
			}
			os.MkdirAll(filepath.Dir(h.registry), 0o700)
			os.WriteFile(h.registry, []byte(reg), 0o600)
			if c2.prepare != nil {
				c2.prepare(h)
			}
			before := mustRead(t, h.registry)
			if strings.HasPrefix(strings.Join(c2.env, " "), "DOCKER_CONTEXT=") {
				// DOCKER_HOST wins over a context, as with the docker CLI.
				h.env = slices.DeleteFunc(h.env, func(kv string) bool { return strings.HasPrefix(kv, "DOCKER_HOST=") })
			}
			h.env = append(h.env, c2.env...)
			r := h.run(c2.args...)
			if r.code != c2.code {
				t.Fatalf("exit %d, want %d:\n%s", r.code, c2.code, r)
			}
			for _, w := range c2.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if after := mustRead(t, h.registry); after != before {
				t.Errorf("registry changed:\n%s\n→\n%s", before, after)
			}
			if ids := containerIDs(t, c, project); len(ids) != 0 {
				t.Errorf("containers created: %v", ids)
			}
		})
	}
}

// TestIntegrationSocketPermissionDenied runs devenv as an unprivileged user
// against the root-owned engine socket: exit 4 naming the endpoint.
func TestIntegrationSocketPermissionDenied(t *testing.T) {
	testbed.Engine(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to an unprivileged user")
	}
	st, err := os.Stat("/var/run/docker.sock")
	if err != nil || st.Mode().Perm()&0o006 != 0 {
		t.Skip("the engine socket is not restricted here")
	}
	bin := buildDevenv(t)
	os.Chmod(filepath.Dir(bin), 0o755)
	os.Chmod(bin, 0o755)
	cmd := exec.Command(bin, "version")
	cmd.Env = []string{"HOME=/tmp", "PATH=/usr/bin:/bin", "DOCKER_HOST=unix:///var/run/docker.sock"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 4 || !strings.Contains(string(out), "permission denied") || !strings.Contains(string(out), "/var/run/docker.sock") {
		t.Fatalf("want exit 4 with permission denied naming the socket, got %v:\n%s", err, out)
	}
}
