package proxy

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/process"
	"github.com/devenv-dev/devenv/registry"
)

// ServeEnv marks the process its supervisor runs as the proxy.
const ServeEnv = "DEVENV_PROXY_SERVE"

// Project is the proxy's entry in the registry, where its ports are
// reserved like a project's (a name no compose project can have).
const Project = registry.ProxyProject

// The proxy's two ports, as reservations of Project.
const (
	serviceHTTPS = "https"
	serviceHTTP  = "http"
)

// Ports are where the proxy listens: HTTPS, and the HTTP side that
// redirects to it.
type Ports struct{ HTTPS, HTTP int }

// PortsOf reads the proxy's reserved ports; ok is false before the proxy
// was first started.
func PortsOf(reg *registry.Registry) (Ports, bool) {
	p := reg.Find(Project, "")
	if p == nil {
		return Ports{}, false
	}
	ports := Ports{HTTPS: p.HostPort(serviceHTTPS, 0), HTTP: p.HostPort(serviceHTTP, 0)}
	return ports, ports.HTTPS > 0 && ports.HTTP > 0
}

// CanListen says whether this process may listen on port of 127.0.0.1 now
// (443 and 80 need root, CAP_NET_BIND_SERVICE, macOS, or a low
// net.ipv4.ip_unprivileged_port_start).
func CanListen(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// Reserve settles the proxy's ports in the registry, once: 443 and 80
// where this process may bind them, else ports of the proxy and
// proxy-http roles (from 1443 and 1080). Reserved ports stay.
func Reserve(ctx context.Context, store *registry.Store) (Ports, error) {
	if reg, err := store.Load(); err == nil {
		if ports, ok := PortsOf(reg); ok {
			return ports, nil
		}
	}
	req := registry.Request{Project: Project, Dir: filepath.Dir(store.Path), Ports: []registry.PortRequest{
		{Service: serviceHTTPS, Role: "proxy", Target: 443, Port: 443, Protocol: "tcp", Host: true},
		{Service: serviceHTTP, Role: "proxy-http", Target: 80, Port: 80, Protocol: "tcp", Host: true},
	}}
	held := func(port int, _ string) []registry.Holder {
		if CanListen(port) {
			return nil
		}
		return []registry.Holder{{Kind: "unknown", Command: "(this user may not listen on it)"}}
	}
	reg, err := store.Update(ctx, func(reg *registry.Registry) (bool, error) {
		if _, ok := PortsOf(reg); ok {
			return false, nil
		}
		res, err := registry.Reconcile(reg, req, held, nil)
		return res.Changed, err
	})
	if err != nil {
		return Ports{}, err
	}
	ports, _ := PortsOf(reg)
	return ports, nil
}

// UIServer is devenv ui's own server as its supervisor knows it (names
// off), beside the proxy.
const UIServer = "ui"

// ReserveUI settles the port devenv ui serves on where names are off: a
// port of the ui role (from 1880) this process may listen on, reserved
// once as the registry's entry devenv.ui.
func ReserveUI(ctx context.Context, store *registry.Store) (int, error) {
	portOf := func(reg *registry.Registry) int {
		if p := reg.Find(registry.UIProject, ""); p != nil {
			return p.HostPort("ui", 0)
		}
		return 0
	}
	if reg, err := store.Load(); err == nil && portOf(reg) > 0 {
		return portOf(reg), nil
	}
	held := func(port int, _ string) []registry.Holder {
		if CanListen(port) {
			return nil
		}
		return []registry.Holder{{Kind: "unknown", Command: "(this user may not listen on it)"}}
	}
	reg, err := store.Update(ctx, func(reg *registry.Registry) (bool, error) {
		if portOf(reg) > 0 {
			return false, nil
		}
		req := registry.Request{Project: registry.UIProject, Dir: filepath.Dir(store.Path), Ports: []registry.PortRequest{
			{Service: "ui", Role: "ui", Target: 1880, Port: 1880, Protocol: "tcp", Host: true}}}
		res, err := registry.Reconcile(reg, req, held, nil)
		return res.Changed, err
	})
	if err != nil {
		return 0, err
	}
	return portOf(reg), nil
}

// Control starts, stops and reports on the proxy, run as a supervised
// process of its own like a host service.
type Control struct {
	Store *registry.Store
	State process.Dir
	// Command is devenv itself; the proxy is `Command... proxy serve`.
	Command []string
}

// name is the proxy's supervised process: one per registry file, since
// its routes come from one.
func (c Control) name() string {
	sum := sha256.Sum256([]byte(c.Store.Path))
	return "proxy-" + hex.EncodeToString(sum[:4])
}

// Dir is where the proxy keeps its CA (and the supervisor its log).
func (c Control) Dir() string { return filepath.Join(c.State.Root, "proxy") }

// Status is the proxy as it runs now.
type Status struct {
	Running bool
	PID     int
	Ports   Ports
	CA      string // the CA certificate's file
	Log     string
	Since   time.Time
}

// Status reads the supervisor's state and the registry.
func (c Control) Status() Status {
	st, ok := c.State.Read(Project, c.name())
	s := Status{Running: ok && st.Running(), PID: st.PID, Since: st.StartedAt, Log: c.State.LogPath(Project, c.name()),
		CA: filepath.Join(c.Dir(), "ca", CertFile)}
	if reg, err := c.Store.Load(); err == nil {
		s.Ports, _ = PortsOf(reg)
	}
	return s
}

// Start reserves the ports, makes the CA and starts the proxy unless it
// runs already; it returns once the proxy answers TLS, or fails with the
// last lines of its log.
func (c Control) Start(ctx context.Context) (Status, error) {
	ports, err := Reserve(ctx, c.Store)
	if err != nil {
		return Status{}, err
	}
	if st, ok := c.State.Read(Project, c.name()); (!ok || !st.Running()) && (!CanListen(ports.HTTPS) || !CanListen(ports.HTTP)) {
		// Reserved where it may no longer listen (devenv replaced without
		// its capability, or the port taken since): settled anew.
		if _, err := c.release(ctx); err != nil {
			return Status{}, err
		}
		if ports, err = Reserve(ctx, c.Store); err != nil {
			return Status{}, err
		}
	}
	ca, err := LoadCA(filepath.Join(c.Dir(), "ca"))
	if err != nil {
		return Status{}, err
	}
	serve := []string{"--registry", c.Store.Path, "proxy", "serve", "--https-port", strconv.Itoa(ports.HTTPS), "--http-port", strconv.Itoa(ports.HTTP)}
	// A running proxy with these ports and routes is kept, whichever devenv
	// binary started it: a restart would drop every WebSocket.
	spec := process.Spec{Project: Project, Name: c.name(), Args: append(slices.Clone(c.Command), serve...), Dir: c.Dir(), Restart: "always",
		Env: []string{ServeEnv + "=1", "XDG_STATE_HOME=" + filepath.Dir(c.State.Root)}, Grace: 5 * time.Second, Hash: fmt.Sprint(serve)}
	if _, _, err := c.State.Start(ctx, spec); err != nil {
		return Status{}, fmt.Errorf("proxy: %w", err)
	}
	log := c.State.LogPath(Project, c.name())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if answers(ports.HTTPS, ca) {
			return c.Status(), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return c.Status(), fmt.Errorf("proxy: not answering on 127.0.0.1:%d with devenv's CA; its log %s says:\n%s", ports.HTTPS, log, process.Tail(log, 10))
		}
	}
}

// answers says whether devenv's proxy answers on port of 127.0.0.1: a
// server whose certificate the CA signed, not just any TLS server.
func answers(port int, ca *CA) bool {
	d := &net.Dialer{Timeout: 300 * time.Millisecond}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		&tls.Config{ServerName: "devenv.localhost", RootCAs: ca.Pool()})
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// Stop stops the proxy; names stay reserved, and come back with the next
// up or proxy start.
func (c Control) Stop(ctx context.Context) (bool, error) {
	// devenv ui's own server (names off) goes with it.
	if st, ok := c.State.Read(Project, UIServer); ok && st.Running() {
		if _, err := c.State.Stop(ctx, Project, UIServer, 5*time.Second, ""); err != nil {
			return false, err
		}
	}
	if st, ok := c.State.Read(Project, c.name()); !ok || !st.Running() {
		return false, nil
	}
	_, err := c.State.Stop(ctx, Project, c.name(), 5*time.Second, "")
	return err == nil, err
}

// Reload has a running proxy read the registry now (SIGHUP).
func (c Control) Reload() {
	if st, ok := c.State.Read(Project, c.name()); ok && st.Running() {
		_ = c.State.Signal(Project, c.name(), "SIGHUP")
	}
}

// Reset stops the proxy and releases its ports, so the next start settles
// them again (after devenv proxy install made 443 and 80 available); it
// says whether there was anything to release.
func (c Control) Reset(ctx context.Context) (bool, error) {
	if _, err := c.Stop(ctx); err != nil {
		return false, err
	}
	return c.release(ctx)
}

// release removes the proxy's entry from the registry.
func (c Control) release(ctx context.Context) (bool, error) {
	released := false
	_, err := c.Store.Update(ctx, func(reg *registry.Registry) (bool, error) {
		released = reg.Remove(Project, "")
		return released, nil
	})
	return released, err
}

// ErrNotRunning is a proxy that was asked about but does not run.
var ErrNotRunning = errors.New("the proxy is not running: devenv proxy start (or devenv up) starts it")
