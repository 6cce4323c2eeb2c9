package testbed

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/docker"
	"github.com/moby/moby/client"
)

// Namespace prefixes every image the tests build.
const Namespace = "devenv-test"

// Required reports whether a missing engine or image must fail tests
// instead of skipping them.
func Required() bool { return os.Getenv("DEVENV_REQUIRE_DOCKER") == "1" }

var (
	engineOnce sync.Once
	engineErr  error
	cli        *client.Client
)

// Engine skips the test (or fails it under DEVENV_REQUIRE_DOCKER=1) when no
// Docker engine answers, and returns a client for test set-up.
func Engine(t testing.TB) *client.Client {
	t.Helper()
	if testing.Short() && !Required() {
		t.Skip("-short: skipping a test that needs a Docker engine")
	}
	engineOnce.Do(func() {
		ep, err := docker.Resolve(os.Getenv)
		if err != nil {
			engineErr = err
			return
		}
		c, err := client.New(client.WithHost(ep.Host))
		if err != nil {
			engineErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
			engineErr = fmt.Errorf("no Docker engine at %s (%s): %w", ep.Host, ep.How, err)
			return
		}
		cli = c
	})
	if engineErr != nil {
		if Required() {
			t.Fatalf("DEVENV_REQUIRE_DOCKER=1 but %v", engineErr)
		}
		t.Skipf("skipping: %v (set DEVENV_REQUIRE_DOCKER=1 to fail instead)", engineErr)
	}
	return cli
}

// RequireImages skips (or fails when required) unless the images exist;
// scripts/build-images makes postgres:15 and redis:7.
func RequireImages(t testing.TB, refs ...string) {
	t.Helper()
	c := Engine(t)
	for _, ref := range refs {
		if _, err := c.ImageInspect(context.Background(), ref); err != nil {
			msg := fmt.Sprintf("image %s is missing: run scripts/build-images", ref)
			if Required() || os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

var (
	serverOnce sync.Once
	serverTag  string
	serverErr  error
)

// ServerImage builds the test server FROM scratch, tagged by the hash of its
// content (so unchanged code is not rebuilt), and also tags the Electric
// stand-in electricsql/electric:latest that the example project uses.
func ServerImage(t testing.TB) string {
	t.Helper()
	c := Engine(t)
	serverOnce.Do(func() { serverTag, serverErr = buildServer(c) })
	if serverErr != nil {
		t.Fatalf("build test server image: %v", serverErr)
	}
	return serverTag
}

const serverDockerfile = `FROM scratch
COPY testserver /testserver
ENV LISTEN=8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/testserver"]
`

const electricDockerfile = `FROM scratch
COPY testserver /testserver
ENV LISTEN=3000 MODE=electric
EXPOSE 3000
ENTRYPOINT ["/testserver"]
`

func buildServer(c *client.Client) (string, error) {
	dir, err := os.MkdirTemp("", "devenv-testserver")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "testserver")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./internal/testserver")
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build testserver: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(append([]byte{}, data...), serverDockerfile+electricDockerfile...))
	tag := Namespace + "/server:" + hex.EncodeToString(sum[:])[:16]
	electricTag := Namespace + "/electric:" + hex.EncodeToString(sum[:])[:16]
	ctx := context.Background()
	for _, b := range []struct{ tag, dockerfile string }{{tag, serverDockerfile}, {electricTag, electricDockerfile}} {
		if _, err := c.ImageInspect(ctx, b.tag); err == nil {
			continue
		}
		if err := build(ctx, c, b.tag, b.dockerfile, data); err != nil {
			return "", err
		}
	}
	for _, extra := range []struct{ src, dst string }{{tag, Namespace + "/server:latest"}, {electricTag, "electricsql/electric:latest"}} {
		if _, err := c.ImageTag(ctx, client.ImageTagOptions{Source: extra.src, Target: extra.dst}); err != nil {
			return "", fmt.Errorf("tag %s: %w", extra.dst, err)
		}
	}
	return tag, nil
}

func build(ctx context.Context, c *client.Client, tag, dockerfile string, bin []byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"testserver", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	res, err := c.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var msg struct {
			Error  string `json:"error"`
			Stream string `json:"stream"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if msg.Error != "" {
			return fmt.Errorf("build %s: %s", tag, strings.TrimSpace(msg.Error))
		}
	}
}

// TrackAnonymousVolumes records the anonymous volumes mounted into the
// containers of compose projects whose name starts with prefix (the
// tests' own), from the engine's volume mount events; removeDangling
// removes those no container uses any more (down keeps anonymous volumes,
// as compose's does). Nothing else on the engine is touched. Without an
// engine it does nothing.
func TrackAnonymousVolumes(prefix string) (removeDangling func()) {
	ep, err := docker.Resolve(os.Getenv)
	if err != nil {
		return func() {}
	}
	c, err := client.New(client.WithHost(ep.Host))
	if err != nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = c.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true})
	pcancel()
	if err != nil {
		cancel()
		c.Close()
		return func() {}
	}
	var mu sync.Mutex
	tracked := map[string]bool{}
	res := c.Events(ctx, client.EventsListOptions{Filters: client.Filters{}.Add("type", "volume").Add("event", "mount")})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-res.Messages:
				name, container := m.Actor.ID, m.Actor.Attributes["container"]
				if len(name) != 64 || strings.Trim(name, "0123456789abcdef") != "" || container == "" {
					continue
				}
				ins, err := c.ContainerInspect(ctx, container, client.ContainerInspectOptions{})
				if err != nil || ins.Container.Config == nil || !strings.HasPrefix(ins.Container.Config.Labels["com.docker.compose.project"], prefix) {
					continue
				}
				mu.Lock()
				tracked[name] = true
				mu.Unlock()
			case <-res.Err:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		time.Sleep(200 * time.Millisecond) // the last mount events
		cancel()
		<-done
		defer c.Close()
		rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
		defer rcancel()
		mu.Lock()
		defer mu.Unlock()
		for name := range tracked {
			// The engine refuses a volume a container still uses.
			_, _ = c.VolumeRemove(rctx, name, client.VolumeRemoveOptions{})
		}
	}
}
