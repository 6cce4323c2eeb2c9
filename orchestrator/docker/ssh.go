package docker

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// sshTransport reaches a remote engine through `ssh HOST docker system
// dial-stdio`, as the docker CLI does, but over one SSH connection per
// devenv process: a master connection (OpenSSH's ControlMaster) is opened
// on the first dial, and every API connection after it is a session
// multiplexed over it, with no new handshake or authentication. Where the
// master cannot be opened, each dial is its own ssh, as before.
type sshTransport struct {
	args []string // -l, -p and the host
	host string

	once   sync.Once
	master *exec.Cmd
	dir    string
	ctl    string // the control socket; "" without a master
}

func newSSHTransport(host string) (*sshTransport, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, err
	}
	var args []string
	if u.User != nil {
		args = append(args, "-l", u.User.Username())
	}
	if u.Port() != "" {
		args = append(args, "-p", u.Port())
	}
	return &sshTransport{args: append(args, "--", u.Hostname()), host: u.Hostname()}, nil
}

// sshArgs are the options, then the host, then cmd.
func (t *sshTransport) sshArgs(opts []string, cmd ...string) []string {
	out := append(append([]string(nil), opts...), t.args...)
	return append(out, cmd...)
}

// startMaster opens the master connection and waits until it is up
// (authenticated), or has failed.
func (t *sshTransport) startMaster() {
	dir, err := os.MkdirTemp("", "devenv-ssh-")
	if err != nil {
		return
	}
	ctl := filepath.Join(dir, "ctl")
	cmd := exec.Command("ssh", t.sshArgs([]string{"-M", "-S", ctl, "-o", "ControlPersist=no", "-N"})...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.After(30 * time.Second)
	for {
		if _, err := os.Stat(ctl); err == nil {
			t.master, t.dir, t.ctl = cmd, dir, ctl
			return
		}
		select {
		case <-exited:
			os.RemoveAll(dir)
			return
		case <-deadline:
			_ = cmd.Process.Kill()
			os.RemoveAll(dir)
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// dial opens one API connection.
func (t *sshTransport) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	t.once.Do(t.startMaster)
	var opts []string
	if t.ctl != "" {
		opts = []string{"-S", t.ctl, "-o", "ControlMaster=no"}
	}
	cmd := exec.Command("ssh", t.sshArgs(opts, "docker", "system", "dial-stdio")...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ssh to %s: %w", t.host, err)
	}
	return &cmdConn{cmd: cmd, w: stdin, r: stdout}, nil
}

// close ends the master connection.
func (t *sshTransport) close() {
	if t.master != nil && t.master.Process != nil {
		_ = t.master.Process.Kill()
	}
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}

type cmdConn struct {
	cmd  *exec.Cmd
	w    io.WriteCloser
	r    io.ReadCloser
	once sync.Once
}

func (c *cmdConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *cmdConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// CloseWrite ends the remote side's stdin, as a half-close (the relay's
// connections pass their end on this way).
func (c *cmdConn) CloseWrite() error { return c.w.Close() }

// Close ends the ssh session; more than once, and from more than one
// goroutine, is fine.
func (c *cmdConn) Close() error {
	c.once.Do(func() {
		_ = c.w.Close()
		_ = c.r.Close()
		if c.cmd.Process != nil {
			_ = c.cmd.Process.Kill()
		}
		_ = c.cmd.Wait()
	})
	return nil
}
func (c *cmdConn) LocalAddr() net.Addr              { return dummyAddr{} }
func (c *cmdConn) RemoteAddr() net.Addr             { return dummyAddr{} }
func (c *cmdConn) SetDeadline(time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(time.Time) error { return nil }

type dummyAddr struct{}

func (dummyAddr) Network() string { return "ssh" }
func (dummyAddr) String() string  { return "ssh" }
