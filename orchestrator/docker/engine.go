package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/moby/moby/client"
)

// Engine is orchestrator.Engine over the Docker Engine API.
type Engine struct {
	ep  Endpoint
	cli *client.Client
	ssh *sshTransport
	// Beacon is the relay's beacon port, for a forward over ssh (see
	// sshTransport.forwards); none: connections go through the relay.
	Beacon forward.Beacon

	once    sync.Once
	info    orchestrator.EngineInfo
	infoErr error

	pingOnce sync.Once
	pingErr  error

	idOnce sync.Once
	id     string
	idErr  error

	// RelayBinary is the devenv the relay image of a remote engine is
	// built from.
	RelayBinary RelayBinary
}

var _ orchestrator.Engine = (*Engine)(nil)

// New connects lazily: nothing is sent until the first call. The API version
// is negotiated with the engine, never pinned. A non-nil trace gets one line
// per API request and response with the time since New, for DEVENV_DEBUG=api.
func New(ep Endpoint, trace io.Writer) (*Engine, error) {
	// The client negotiates the API version with the engine on first use.
	opts := []client.Opt{client.WithUserAgent("devenv")}
	if trace != nil {
		start := time.Now()
		var mu sync.Mutex
		logf := func(format string, a ...any) {
			mu.Lock()
			fmt.Fprintf(trace, "api %7.1fms "+format+"\n", append([]any{float64(time.Since(start).Microseconds()) / 1000}, a...)...)
			mu.Unlock()
		}
		opts = append(opts,
			client.WithHTTPRequestHook(func(r *http.Request) error { logf("→ %s %s", r.Method, r.URL.Path); return nil }),
			client.WithHTTPResponseHook(func(r *http.Response) { logf("← %d %s", r.StatusCode, r.Request.URL.Path) }))
	}
	var ssh *sshTransport
	if strings.HasPrefix(ep.Host, "ssh://") {
		var err error
		if ssh, err = newSSHTransport(ep.Host, !ep.PrivateSSH); err != nil {
			return nil, err
		}
		opts = append(opts, client.WithHost("http://docker.example"), client.WithDialContext(ssh.dial))
	} else {
		opts = append(opts, client.WithHost(ep.Host))
	}
	if ep.TLS {
		opts = append(opts, client.WithTLSClientConfig(
			filepath.Join(ep.CertPath, "ca.pem"), filepath.Join(ep.CertPath, "cert.pem"), filepath.Join(ep.CertPath, "key.pem")))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker engine at %s (from %s): %w", ep.Host, ep.How, err)
	}
	return &Engine{ep: ep, cli: cli, ssh: ssh}, nil
}

// Endpoint is where this engine is.
func (e *Engine) Endpoint() Endpoint { return e.ep }

// Close releases the client, and the SSH connection.
func (e *Engine) Close() error {
	err := e.cli.Close()
	if e.ssh != nil {
		e.ssh.close()
	}
	return err
}

func (e *Engine) wrap(err error) error {
	if err == nil {
		return nil
	}
	if client.IsErrConnectionFailed(err) || isDialErr(err) {
		return fmt.Errorf("%w: %s (chosen by %s): %s", orchestrator.ErrEngineUnreachable, e.ep.Host, e.ep.How, unreachable(err, e.ep))
	}
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%w: %v", orchestrator.ErrNotFound, err)
	}
	return err
}

// unreachable says why the engine did not answer, and what to do, in
// devenv's words rather than the client library's.
func unreachable(err error, ep Endpoint) string {
	fix := "start Docker, or point DOCKER_HOST (or --context) at a running engine"
	if ep.How == "DOCKER_HOST" {
		fix = "check DOCKER_HOST, or start the engine it names"
	}
	switch s := err.Error(); {
	case errors.Is(err, syscall.ENOENT) || strings.Contains(s, "no such file or directory"):
		return "no engine socket there; " + fix
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(s, "connection refused") || strings.Contains(s, "Cannot connect to the Docker daemon"):
		return "nothing listens there; " + fix
	case errors.Is(err, syscall.EACCES) || strings.Contains(s, "permission denied"):
		return "permission denied on the engine's socket: add your user to the docker group (then log in again), or use a rootless engine"
	case strings.Contains(s, "dial-stdio"):
		return "the ssh connection to the engine failed (" + s + ")"
	}
	return err.Error() + "; " + fix
}

func isDialErr(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connect: permission denied") || strings.Contains(s, "connect: no such file") ||
		strings.Contains(s, "connection refused") || strings.Contains(s, "dial-stdio")
}

// Ping checks once that the engine answers; it negotiates the API version.
func (e *Engine) Ping(ctx context.Context) error {
	e.pingOnce.Do(func() {
		_, err := e.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		e.pingErr = e.wrap(err)
	})
	return e.pingErr
}

// Info asks the engine for its version once; it also negotiates the API.
func (e *Engine) Info(ctx context.Context) (orchestrator.EngineInfo, error) {
	e.once.Do(func() {
		v, err := e.cli.ServerVersion(ctx, client.ServerVersionOptions{})
		if err != nil {
			e.infoErr = e.wrap(err)
			return
		}
		e.info = orchestrator.EngineInfo{
			Endpoint: e.ep.Host, How: e.ep.How, ServerVersion: v.Version,
			APIVersion: e.cli.ClientVersion(), OS: v.Os, Remote: e.ep.Remote,
		}
	})
	return e.info, e.infoErr
}

// ID is the engine's own ID, from /info: the same engine reached over
// tcp and over ssh has one ID.
func (e *Engine) ID(ctx context.Context) (string, error) {
	e.idOnce.Do(func() {
		res, err := e.cli.Info(ctx, client.InfoOptions{})
		if err != nil {
			e.idErr = e.wrap(err)
			return
		}
		e.id = res.Info.ID
		if e.id == "" {
			e.idErr = fmt.Errorf("engine %s reports no ID", e.ep.Host)
		}
	})
	return e.id, e.idErr
}

func labelFilter(labels []string) client.Filters {
	f := client.Filters{}
	if len(labels) > 0 {
		f.Add("label", labels...)
	}
	return f
}
