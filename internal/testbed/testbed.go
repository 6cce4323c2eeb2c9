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

// Volumes lists the engine's volume names, or nil without an engine.
func Volumes() map[string]bool {
	ep, err := docker.Resolve(os.Getenv)
	if err != nil {
		return nil
	}
	c, err := client.New(client.WithHost(ep.Host))
	if err != nil {
		return nil
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.VolumeList(ctx, client.VolumeListOptions{})
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, v := range res.Items {
		out[v.Name] = true
	}
	return out
}

// RemoveNewAnonymousVolumes removes the anonymous volumes (64 hex digits,
// no labels) that no container uses and that were not there before: what
// the tests' containers left (down keeps anonymous volumes, as compose's
// does). Volumes that existed before the tests are never touched.
func RemoveNewAnonymousVolumes(before map[string]bool) {
	if before == nil {
		return
	}
	ep, err := docker.Resolve(os.Getenv)
	if err != nil {
		return
	}
	c, err := client.New(client.WithHost(ep.Host))
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("dangling", "true")})
	if err != nil {
		return
	}
	for _, v := range res.Items {
		_, anonymous := v.Labels["com.docker.volume.anonymous"] // current engines say so
		if before[v.Name] || len(v.Name) != 64 || strings.Trim(v.Name, "0123456789abcdef") != "" || len(v.Labels) > 0 && !anonymous {
			continue
		}
		_, _ = c.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{})
	}
}
