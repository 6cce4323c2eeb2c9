package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/gofrs/flock"
)

// sshTransport reaches a remote engine through `ssh HOST docker system
// dial-stdio`, as the docker CLI does, but over as few SSH connections as
// the server allows: every API connection is a session multiplexed over a
// master connection (OpenSSH's ControlMaster), with no new handshake or
// authentication (about 0.2 s each, even on a near host).
//
// A command's first sessions go over the user's shared master for the
// host: a master left running for a minute after its last session, its
// control socket in a directory only the user can enter, so the next
// devenv command finds it up. sshd allows MaxSessions sessions per
// connection (10 unless configured), and a forward carries one session per
// open connection, so past sharedSessions (or without a shared master, as
// in a forward, which keeps its own) a process opens its own masters, each
// taking at most sessionsPerMaster, another beside it when all are full.
// An own master that has died (the network went away; keep-alives notice
// within half a minute) is replaced, and ends with devenv. Where no master
// can be opened, each dial is its own ssh.
type sshTransport struct {
	args []string // -l, -p and the host
	host string
	// share: use the shared master (commands; a forward keeps its own).
	share bool

	fwdOnce sync.Once
	fwdOK   bool // the server forwards TCP (ssh -W)

	mu      sync.Mutex
	shared  *sshMaster // nil: not tried yet, or none
	tried   bool
	masters []*sshMaster
	broken  bool // a master could not be opened: plain ssh from then on
}

// sharedSessions is how many of the shared master's sessions one command
// takes (a no-change up makes four API connections at once). Commands at
// once may together ask for more than sshd's MaxSessions: a session the
// server refuses is an ssh connection of its own (slower, not an error).
const sharedSessions = 8

// sessionsPerMaster stays under sshd's default MaxSessions (10).
const sessionsPerMaster = 8

// sshMaster is one master connection and this process's sessions open
// over it. The shared master is not this process's child: no cmd, and it
// is taken as alive (a dead one makes ssh connect on its own).
type sshMaster struct {
	cmd      *exec.Cmd
	dir, ctl string
	exited   chan struct{}
	sessions int
}

func (m *sshMaster) alive() bool {
	if m.exited == nil {
		return true
	}
	select {
	case <-m.exited:
		return false
	default:
		return true
	}
}

func newSSHTransport(host string, share bool) (*sshTransport, error) {
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
	return &sshTransport{args: append(args, "--", u.Hostname()), host: u.Hostname(), share: share}, nil
}

// sshArgs are the options, then the host, then cmd.
func (t *sshTransport) sshArgs(opts []string, cmd ...string) []string {
	out := append(append([]string(nil), opts...), t.args...)
	return append(out, cmd...)
}

// startMaster opens a master connection and waits until it is up
// (authenticated), or has failed (nil). It ends with devenv (see
// endWithParent) and when the server stops answering its keep-alives.
func (t *sshTransport) startMaster() *sshMaster {
	dir, err := os.MkdirTemp("", "devenv-ssh-")
	if err != nil {
		return nil
	}
	ctl := filepath.Join(dir, "ctl")
	cmd := exec.Command("ssh", t.sshArgs([]string{"-M", "-S", ctl, "-o", "ControlPersist=no", "-o", "ConnectTimeout=10",
		"-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3", "-N"})...)
	cmd.Stderr = io.Discard
	endWithParent(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil
	}
	m := &sshMaster{cmd: cmd, dir: dir, ctl: ctl, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); os.RemoveAll(dir); close(m.exited) }()
	deadline := time.After(30 * time.Second)
	for {
		if _, err := os.Stat(ctl); err == nil {
			return m
		}
		select {
		case <-m.exited:
			return nil
		case <-deadline:
			_ = cmd.Process.Kill()
			return nil
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// sharedMaster finds the user's shared master for the host, starting it
// when there is none (under a lock, so that two commands do not both
// start one); nil when the directory is not private or ssh cannot.
func (t *sshTransport) sharedMaster() *sshMaster {
	dir, ok := privateDir()
	if !ok {
		return nil
	}
	sum := sha256.Sum256([]byte(strings.Join(t.args, "\x00")))
	ctl := filepath.Join(dir, hex.EncodeToString(sum[:8]))
	lk := flock.New(ctl + ".lock")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if locked, err := lk.TryLockContext(ctx, 20*time.Millisecond); err != nil || !locked {
		return nil
	}
	defer lk.Unlock()
	if listens(ctl) {
		return &sshMaster{ctl: ctl}
	}
	if _, err := net.Dial("unix", ctl); errors.Is(err, syscall.ECONNREFUSED) {
		os.Remove(ctl) // a master that died without removing its socket
	}
	// ControlPersist puts the master in the background once it is up, and
	// ends it a minute after its last session.
	cmd := exec.CommandContext(ctx, "ssh", t.sshArgs([]string{"-M", "-S", ctl, "-o", "ControlPersist=60", "-o", "ConnectTimeout=10",
		"-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3", "-N"})...)
	if err := cmd.Run(); err != nil {
		return nil
	}
	if _, err := os.Stat(ctl); err != nil {
		return nil
	}
	return &sshMaster{ctl: ctl}
}

// privateDir is the directory of the user's shared control sockets:
// created 0700, refused when it is a symlink, another user's, or open to
// others (a control socket runs commands as the user on the host).
func privateDir() (string, bool) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("devenv-ssh-%d", os.Getuid()))
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return "", false
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || !ownedByMe(fi) {
		return "", false
	}
	return dir, true
}

// master picks a live master with a free session, opening one when none
// has; nil means plain ssh. A TCP channel (ssh -W) is no session (sshd's
// MaxSessions does not count it): any live master carries it, uncounted.
func (t *sshTransport) master(session bool) *sshMaster {
	t.mu.Lock()
	defer t.mu.Unlock()
	take := func(m *sshMaster, limit int) bool {
		if session && m.sessions >= limit {
			return false
		}
		if session {
			m.sessions++
		}
		return true
	}
	if t.share && !t.tried {
		t.tried = true
		t.shared = t.sharedMaster()
	}
	if t.shared != nil && !listens(t.shared.ctl) {
		t.shared = nil // it ended (a minute without sessions): own masters from now
	}
	if t.shared != nil && take(t.shared, sharedSessions) {
		return t.shared
	}
	if t.broken {
		return nil
	}
	live := t.masters[:0]
	for _, m := range t.masters {
		if m.alive() {
			live = append(live, m)
		}
	}
	t.masters = live
	for _, m := range t.masters {
		if take(m, sessionsPerMaster) {
			return m
		}
	}
	m := t.startMaster()
	if m == nil {
		t.broken = len(t.masters) == 0 // a server that never multiplexes
		return nil
	}
	take(m, sessionsPerMaster)
	t.masters = append(t.masters, m)
	return m
}

func (t *sshTransport) release(m *sshMaster) {
	t.mu.Lock()
	m.sessions--
	t.mu.Unlock()
}

// dial opens one API connection.
func (t *sshTransport) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	return t.run(nil, true, "docker", "system", "dial-stdio")
}

// dialTCP connects to addr (host:port, as the engine's host sees it)
// through the SSH connection itself.
func (t *sshTransport) dialTCP(addr string) (*cmdConn, error) {
	return t.run([]string{"-W", addr}, false)
}

// forwards says, once, whether the server forwards TCP to the engine's
// host for us (sshd's AllowTcpForwarding, PermitOpen; an ssh host that is
// not the engine's): the relay's beacon port, asked for with ssh -W, must
// answer with its token. No service of the user's is touched.
func (t *sshTransport) forwards(beacon forward.Beacon) bool {
	t.fwdOnce.Do(func() {
		c, err := t.run([]string{"-W", net.JoinHostPort("127.0.0.1", strconv.Itoa(beacon.Port))}, false)
		if err != nil {
			return
		}
		_ = c.w.Close()
		type answer struct {
			b   []byte
			err error
		}
		got := make(chan answer, 1)
		go func() {
			b, _ := io.ReadAll(io.LimitReader(c.r, 256))
			got <- answer{b, c.cmd.Wait()}
		}()
		var a answer
		select {
		case a = <-got:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			a = <-got
		}
		c.once.Do(c.done)
		t.fwdOK = a.err == nil && string(a.b) == forward.BeaconGreeting+beacon.Token+"\n"
	})
	return t.fwdOK
}

// run starts ssh with opts and cmd over a master (counted as a session
// when it is one), its stdin and stdout as the connection.
func (t *sshTransport) run(opts []string, session bool, command ...string) (*cmdConn, error) {
	m := t.master(session)
	if m != nil {
		opts = append([]string{"-S", m.ctl, "-o", "ControlMaster=no"}, opts...)
	}
	cmd := exec.Command("ssh", t.sshArgs(append(opts, "-o", "ConnectTimeout=10"), command...)...)
	endWithParent(cmd)
	conn := &cmdConn{cmd: cmd, done: func() {}}
	if m != nil && session {
		conn.done = func() { t.release(m) }
	}
	var err error
	if conn.w, err = cmd.StdinPipe(); err == nil {
		conn.r, err = cmd.StdoutPipe()
	}
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		conn.done()
		return nil, fmt.Errorf("start ssh to %s: %w", t.host, err)
	}
	return conn, nil
}

// close ends the master connections.
func (t *sshTransport) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range t.masters {
		if m.cmd.Process != nil {
			_ = m.cmd.Process.Kill()
		}
		<-m.exited
	}
	// The shared master stays for the next command.
	t.masters = nil
}

type cmdConn struct {
	cmd  *exec.Cmd
	w    io.WriteCloser
	r    io.ReadCloser
	done func() // gives its session back to the master
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
		c.done()
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

// listens says whether a master answers on the control socket.
func listens(ctl string) bool {
	c, err := net.Dial("unix", ctl)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
