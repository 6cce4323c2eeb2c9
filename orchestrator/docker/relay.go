package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/internal/errdefs"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/devenv-dev/devenv/orchestrator/sockets"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The relay container's labels: whose it is. It carries none of compose's
// labels, so compose and devenv's own observe never take it for a service.
const (
	LabelRelayProject = "dev.devenv.relay.project"
	LabelRelayDir     = "dev.devenv.relay.dir"
	LabelRelayImage   = "dev.devenv.relay"
	// LabelRelayBuild is the relay image's tag (the devenv build) a relay
	// was made from: two devenvs building it at once tag two images.
	LabelRelayBuild = "dev.devenv.relay.build"
	// LabelRelayProtocol is the relay's protocol (forward.RelayProtocol):
	// a running relay of another build is kept while it speaks this one.
	LabelRelayProtocol = "dev.devenv.relay.protocol"
)

// RelayBinary is the devenv executable the relay image is built from: a
// Linux build for the engine's architecture, static or (go build with cgo)
// dynamic, in which case its loader and libraries go into the image too
// (relayFiles). Empty means this executable.
type RelayBinary string

func (b RelayBinary) path() (string, error) {
	if b != "" {
		return string(b), nil
	}
	return os.Executable()
}

// relayBinaryError is a relay binary that cannot be used: a configuration
// error (exit 2), found before anything is created.
type relayBinaryError struct{ why string }

func (e relayBinaryError) Error() string {
	return "the relay that forwards a remote engine's ports runs devenv inside the engine, and its binary cannot: " + e.why
}

func (e relayBinaryError) Unwrap() error { return errdefs.ErrInvalid }

// relayImage is the tag of the relay image for bin: the same file always
// gives the same tag, and a new devenv a new one.
func relayImage(path string, fi os.FileInfo) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", path, fi.Size(), fi.ModTime().UnixNano()))
	return "devenv-relay:" + hex.EncodeToString(sum[:6])
}

var relayMu sync.Mutex

// Relay finds the project's relay container and, with create, builds its
// image and creates and starts it where it is missing or stopped. A
// running relay is kept even when another devenv build made it (its
// connections stay up; down ends it); a stopped one of another build is
// replaced. It returns the running relay's ID, or "" when there is none
// and create is false. Another devenv creating the relay at the same time
// is not an error: its relay is used.
func (e *Engine) Relay(ctx context.Context, project, dir string, create bool) (string, error) {
	relayMu.Lock()
	defer relayMu.Unlock()
	// The engine takes the name before the other devenv's relay shows in
	// its list: look again, a little later, a few times.
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		id, err := e.relay(ctx, project, dir, create)
		if err == nil || !create || !isConflict(err) || wait > 2*time.Second {
			return id, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
	}
}

func isConflict(err error) bool {
	return cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "is already in use")
}

func (e *Engine) relay(ctx context.Context, project, dir string, create bool) (string, error) {
	if project == "" {
		// Any running relay of the engine (ports check).
		res, err := e.cli.ContainerList(ctx, client.ContainerListOptions{Filters: labelFilter([]string{LabelRelayProject})})
		if err != nil || len(res.Items) == 0 {
			return "", e.wrap(err)
		}
		return res.Items[0].ID, nil
	}
	res, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelFilter([]string{LabelRelayProject + "=" + project})})
	if err != nil {
		return "", e.wrap(err)
	}
	var image string
	if create {
		if image, err = e.relayImage(ctx); err != nil {
			return "", err
		}
	}
	for _, c := range res.Items {
		if d := c.Labels[LabelRelayDir]; d != dir {
			return "", fmt.Errorf("the engine's relay for project %s belongs to %s, not %s: pick another project name with -p", project, d, dir)
		}
		current := c.Labels[LabelRelayProtocol] == forward.RelayProtocol
		switch {
		case c.State == container.StateRunning && (current || !create):
			return c.ID, nil
		case !create:
			return "", nil
		case c.Labels[LabelRelayBuild] == image || c.State == container.StateCreated:
			// Stopped, or just created by another devenv, which is
			// starting it too.
			_, err := e.cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{})
			return c.ID, e.wrap(err)
		}
		// A relay another devenv build made and left stopped, or one that
		// speaks another protocol: replaced.
		if err := e.Remove(ctx, c.ID, false); err != nil && !errors.Is(err, orchestrator.ErrNotFound) {
			return "", err
		}
	}
	if !create {
		return "", nil
	}
	cr, err := e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: project + "-devenv-relay",
		Config: &container.Config{
			Image:  image,
			Cmd:    []string{"serve"},
			Labels: map[string]string{LabelRelayProject: project, LabelRelayDir: dir, LabelRelayBuild: image, LabelRelayProtocol: forward.RelayProtocol},
		},
		// The host's network: the relay dials the ports the project
		// publishes on the host's loopback, and lists the host's sockets.
		HostConfig: &container.HostConfig{
			// Its listing is read back from its log: a log the engine
			// can read, kept small.
			LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m", "max-file": "1"}},
			NetworkMode:   "host",
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		},
	})
	if err != nil {
		return "", fmt.Errorf("create the relay for project %s: %w", project, e.wrap(err))
	}
	if _, err := e.cli.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{}); err != nil {
		return "", fmt.Errorf("start the relay for project %s: %w", project, e.wrap(err))
	}
	return cr.ID, nil
}

// relayImage builds the relay image from the relay binary unless the
// engine has it.
func (e *Engine) relayImage(ctx context.Context) (string, error) {
	path, err := e.RelayBinary.path()
	if err != nil {
		return "", relayBinaryError{err.Error()}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", relayBinaryError{err.Error()}
	}
	tag := relayImage(path, fi)
	if _, err := e.cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	v, err := e.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", e.wrap(err)
	}
	files, libDirs, err := relayFiles(path, v.Arch)
	if err != nil {
		return "", relayBinaryError{fmt.Sprintf("%v; set DEVENV_RELAY_BINARY to a linux/%s devenv (GOARCH=%s go build ./cmd/devenv)", err, v.Arch, v.Arch)}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dockerfile := "FROM scratch\nCOPY devenv /devenv\n"
	if len(files) > 1 {
		// A dynamically linked devenv: its loader and libraries, where it
		// and the loader look for them.
		dockerfile += "COPY root/ /\nENV LD_LIBRARY_PATH=" + strings.Join(libDirs, ":") + "\n"
	}
	dockerfile += "ENTRYPOINT [\"/devenv\", \"" + forward.RelayArg + "\"]\nCMD [\"serve\"]\n"
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}); err != nil {
		return "", err
	}
	if _, err := tw.Write([]byte(dockerfile)); err != nil {
		return "", err
	}
	for i, f := range files {
		data, err := os.ReadFile(f.source)
		if err != nil {
			return "", relayBinaryError{err.Error()}
		}
		name := f.image
		if i > 0 {
			name = "root/" + f.image
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: f.mode, Size: int64(len(data))}); err != nil {
			return "", err
		}
		if _, err := tw.Write(data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	res, err := e.cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{tag}, Labels: map[string]string{LabelRelayImage: "true"}, Remove: true, ForceRemove: true})
	if err != nil {
		return "", fmt.Errorf("build the relay image: %w", e.wrap(err))
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var m buildMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", fmt.Errorf("build the relay image: %w", e.wrap(err))
		}
		if m.Error != "" {
			return "", fmt.Errorf("build the relay image: %s", m.Error)
		}
	}
	return tag, nil
}

// RemoveRelay removes the project's relay, if any (down); one made for
// another directory is left alone unless dir is "".
func (e *Engine) RemoveRelay(ctx context.Context, project, dir string) error {
	res, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelFilter([]string{LabelRelayProject + "=" + project})})
	if err != nil {
		return e.wrap(err)
	}
	for _, c := range res.Items {
		if dir != "" && c.Labels[LabelRelayDir] != dir {
			continue
		}
		if err := e.Remove(ctx, c.ID, false); err != nil && !errors.Is(err, orchestrator.ErrNotFound) {
			return err
		}
	}
	return nil
}

// Listening lists the sockets listening on the engine's host, as the relay
// sees them: the listing the serving relay keeps (one archive request),
// else one made now (a process started in the relay).
func (e *Engine) Listening(ctx context.Context, relay string, fresh bool) ([]sockets.Socket, error) {
	var got []forward.Listening
	var err error
	if !fresh {
		got, _, err = e.keptListing(ctx, relay)
	}
	if fresh || err != nil {
		conn, err := e.DialRelay(ctx, relay, []string{"listening"})
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		_ = conn.CloseWrite()
		if err := json.NewDecoder(conn).Decode(&got); err != nil {
			return nil, fmt.Errorf("the relay's listing of the engine host's sockets: %v%s", err, conn.stderrText())
		}
	}
	out := make([]sockets.Socket, 0, len(got))
	for _, s := range got {
		out = append(out, sockets.Socket{Port: s.Port, Protocol: s.Protocol, Addr: s.Addr})
	}
	return out, nil
}

func (e *Engine) keptListing(ctx context.Context, relay string) ([]forward.Listening, forward.Beacon, error) {
	rc, err := e.cli.ContainerLogs(ctx, relay, client.ContainerLogsOptions{ShowStdout: true, Tail: "1"})
	if err != nil {
		return nil, forward.Beacon{}, err
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, io.Discard, io.LimitReader(rc, 1<<20)); err != nil {
		return nil, forward.Beacon{}, err
	}
	got, beacon, ok := forward.ParseListingLine(out.String())
	if !ok {
		return nil, forward.Beacon{}, errors.New("no listing in the relay's log")
	}
	return got, beacon, nil
}

// RelayBeacon is the relay's beacon port, from its log (none when it has
// not logged one).
func (e *Engine) RelayBeacon(ctx context.Context, relay string) forward.Beacon {
	_, beacon, err := e.keptListing(ctx, relay)
	if err != nil {
		return forward.Beacon{}
	}
	return beacon
}

// Forward is how a forward process reaches this engine.
func (e *Engine) Forward() forward.Engine {
	return forward.Engine{Host: e.ep.Host, TLS: e.ep.TLS, TLSVerify: e.ep.TLSVerify, CertPath: e.ep.CertPath}
}

// Label is the engine as the user named it.
func (e *Engine) Label() string { return e.ep.Host }

var _ orchestrator.Remote = (*Engine)(nil)
