package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/testbed"
)

// composeV2 returns the command of a docker compose v2 plugin, or skips:
// Debian's docker.io ships none and none can be downloaded here, so these
// comparisons run where a developer has one installed.
func composeV2(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("docker", "compose", "version", "--short").CombinedOutput()
	if err != nil || strings.HasPrefix(strings.TrimSpace(string(out)), "1.") {
		t.Skip("no docker compose v2 plugin installed; the compose comparison needs one")
	}
	return []string{"docker", "compose"}
}

func runCompose(t *testing.T, dir string, env []string, args ...string) (string, error) {
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
func TestComposeConfigMatches(t *testing.T) {
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

// TestComposeInterop: on an unchanged file, docker compose up -d after
// devenv up recreates nothing, devenv up after docker compose up -d
// recreates nothing, and devenv ps shows compose's containers.
func TestComposeInterop(t *testing.T) {
	composeV2(t)
	c, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(t), freePort(t), ""))
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
	_ = context.Background
}
