package docker_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/devenv-dev/devenv/orchestrator/docker"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// TestIntegrationRelayImageOfDefaultBuild: devenv built as the README's
// install builds it (go build, cgo on where a C compiler is) runs as the
// relay in its FROM scratch image.
func TestIntegrationRelayImageOfDefaultBuild(t *testing.T) {
	c := testbed.Engine(t)
	bin := filepath.Join(t.TempDir(), "devenv")
	build := exec.Command("go", "build", "-o", bin, "./cmd/devenv")
	build.Dir = testbed.Root()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if cgo, _ := exec.Command("go", "env", "CGO_ENABLED").Output(); strings.TrimSpace(string(cgo)) == "1" {
		f, _, err := docker.RelayFiles(bin, runtime.GOARCH)
		if err != nil || len(f) == 1 {
			t.Fatalf("a cgo build should be dynamic here: %v %v", f, err)
		}
	}
	ep, err := docker.Resolve(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	e, err := docker.New(ep, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.RelayBinary = docker.RelayBinary(bin)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	tag, err := e.RelayImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{Force: true}) })
	cr, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: tag, Cmd: []string{"listening"}},
		HostConfig: &container.HostConfig{NetworkMode: "host"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ContainerRemove(context.Background(), cr.ID, client.ContainerRemoveOptions{Force: true}) })
	if _, err := c.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("the relay of a default build does not start: %v", err)
	}
	wait := c.ContainerWait(ctx, cr.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case res := <-wait.Result:
		if res.StatusCode != 0 {
			logs, _ := c.ContainerLogs(ctx, cr.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
			var b strings.Builder
			if logs != nil {
				buf := make([]byte, 4096)
				n, _ := logs.Read(buf)
				b.Write(buf[:n])
			}
			t.Fatalf("the relay of a default build exited %d: %q", res.StatusCode, b.String())
		}
	case err := <-wait.Error:
		t.Fatal(err)
	}
}
