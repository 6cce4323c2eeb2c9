package forward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
)

// Env names the forward's spec (JSON) when devenv runs as a project's
// port forward under its supervisor.
const Env = "DEVENV_FORWARD"

// Name is what the forward is called in events; among the project's
// supervised processes it is NameFor its engine. No compose service can
// have a name starting with "@", so it never collides with a host service.
const Name = "@forward"

// NameFor is the supervised name of a project's forward from the engine
// registered under key: the same project name on two engines has two.
func NameFor(key string) string {
	sum := sha256.Sum256([]byte(key))
	return Name + "-" + hex.EncodeToString(sum[:4])
}

// IsName says whether a supervised process is a forward.
func IsName(name string) bool { return strings.HasPrefix(name, Name) }

// Port is one forwarded port.
type Port struct {
	Service string `json:"service"`
	// Local is the port on this machine's 127.0.0.1.
	Local int `json:"local"`
	// Remote is the port published on the engine host's RemoteIP.
	Remote   int    `json:"remote"`
	RemoteIP string `json:"remote_ip"`
}

// Engine is how the forward reaches the engine: what the devenv that
// started it resolved, so a later change of DOCKER_HOST or context does
// not move a running forward.
type Engine struct {
	Host      string `json:"host"`
	TLS       bool   `json:"tls,omitempty"`
	TLSVerify bool   `json:"tls_verify,omitempty"`
	CertPath  string `json:"cert_path,omitempty"`
}

// Spec is one project's forwards.
type Spec struct {
	Project string `json:"project"`
	// Relay is the relay container's ID on the engine, Beacon its beacon
	// port (none from a relay that has not logged one).
	Relay  string `json:"relay"`
	Beacon Beacon `json:"probe,omitzero"`
	Engine Engine `json:"engine"`
	Ports  []Port `json:"ports"`
}

// Encode is the spec as the forward reads it from Env.
func (s Spec) Encode() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Decode reads a spec written by Encode.
func Decode(s string) (Spec, error) {
	var spec Spec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		return Spec{}, fmt.Errorf("forward spec: %w", err)
	}
	return spec, nil
}

// Conn is one connection through the relay.
type Conn interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// Dialer opens a connection to addr (host:port) on the engine's host.
type Dialer func(ctx context.Context, addr string) (Conn, error)

// Serve listens on 127.0.0.1 at every local port of spec and relays each
// connection through dial until ctx ends. A port it cannot listen on is an
// error at once: the supervisor restarts the forward, and up reports it.
func Serve(ctx context.Context, spec Spec, dial Dialer, log io.Writer) error {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var lc net.ListenConfig
	for _, p := range spec.Ports {
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Local)))
		if err != nil {
			return fmt.Errorf("forward %s port %d: %w", p.Service, p.Local, err)
		}
		lns = append(lns, ln)
		fmt.Fprintf(log, "forwarding 127.0.0.1:%d to %s:%d on the engine's host (service %s)\n", p.Local, p.RemoteIP, p.Remote, p.Service)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(lns))
	for i, ln := range lns {
		p := spec.Ports[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					if ctx.Err() == nil {
						errs <- fmt.Errorf("forward %s port %d: %w", p.Service, p.Local, err)
					}
					return
				}
				go relay(ctx, c.(*net.TCPConn), p, dial, log)
			}
		}()
	}
	select {
	case <-ctx.Done():
	case err := <-errs:
		return err
	}
	for _, ln := range lns {
		ln.Close()
	}
	wg.Wait()
	return nil
}

// relay carries one local connection to the engine's host and back. The
// client's end of sending is passed on as a half-close, a reset as a
// close; once the far side is done (the relay has exited) there is nowhere
// left to send to, and the local connection is closed.
func relay(ctx context.Context, local *net.TCPConn, p Port, dial Dialer, log io.Writer) {
	defer local.Close()
	remote, err := dial(ctx, net.JoinHostPort(p.RemoteIP, strconv.Itoa(p.Remote)))
	if err != nil {
		fmt.Fprintf(log, "forward %s port %d: %v\n", p.Service, p.Local, err)
		return
	}
	defer remote.Close()
	go func() {
		if _, err := io.Copy(remote, local); err == nil {
			_ = remote.CloseWrite()
		} else {
			// The client is gone (reset): nothing will read the answer,
			// and an idle server would keep the relay open for ever.
			remote.Close()
		}
	}()
	// Large reads: the relay's stream gives back as much as it has.
	if _, err = io.CopyBuffer(onlyWriter{local}, remote, make([]byte, 256<<10)); err != nil && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintf(log, "forward %s port %d: %v\n", p.Service, p.Local, err)
	}
}

// onlyWriter hides a connection's ReadFrom, so that io.CopyBuffer uses
// the buffer it is given.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// HeldPort reads a forward's log for the port it could not listen on
// because something here holds it: Serve's "forward SERVICE port N: …
// address already in use".
func HeldPort(log string) (service string, port int, ok bool) {
	for _, line := range strings.Split(log, "\n") {
		rest, found := strings.CutPrefix(strings.TrimSpace(line), "devenv forward: ")
		if !found || !strings.Contains(rest, "address already in use") {
			continue
		}
		var svc string
		var n int
		if _, err := fmt.Sscanf(rest, "forward %s port %d:", &svc, &n); err == nil {
			return svc, n, true
		}
	}
	return "", 0, false
}
