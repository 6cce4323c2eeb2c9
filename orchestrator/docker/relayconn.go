package docker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/moby/moby/client"
)

// Dial connects to addr on the engine's host through the relay.
// Over an ssh:// engine whose server forwards TCP, the connection is a
// channel of the engine's own SSH connection (ssh -W): no process in the
// relay, and none of the engine's exec streams to pass through.
func (e *Engine) Dial(ctx context.Context, relay, addr string) (forward.Conn, error) {
	if e.ssh != nil && e.Beacon.Port > 0 && e.ssh.forwards(e.Beacon) {
		c, err := e.ssh.dialTCP(addr)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return e.DialRelay(ctx, relay, []string{"dial", addr})
}

// DialRelay runs the relay command args in the relay container with its
// stdin and stdout as the returned connection.
func (e *Engine) DialRelay(ctx context.Context, relay string, args []string) (*RelayConn, error) {
	cr, err := e.cli.ExecCreate(ctx, relay, client.ExecCreateOptions{
		Cmd: append([]string{"/devenv", forward.RelayArg}, args...), AttachStdin: true, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: %w", e.wrap(err))
	}
	att, err := e.cli.ExecAttach(ctx, cr.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("relay: %w", e.wrap(err))
	}
	return newRelayConn(att.HijackedResponse), nil
}

// RelayConn is a relay command's stdin and stdout: what is written goes to
// its stdin; its stdout is read back out of the engine's multiplexed
// stream, its stderr kept for the error message. The stream is read
// through a large buffer, and one Read takes in every frame already
// buffered: the engine's frames can be small, and one write here per
// frame would cost the forward more than the copy.
type RelayConn struct {
	hr     client.HijackedResponse
	r      *bufio.Reader
	left   int
	stderr bytes.Buffer
}

func newRelayConn(hr client.HijackedResponse) *RelayConn {
	return &RelayConn{hr: hr, r: bufio.NewReaderSize(hr.Reader, 256<<10)}
}

func (c *RelayConn) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if c.left == 0 {
			if n > 0 {
				// Go on only with a whole frame header (and a whole
				// stderr frame) already here: never wait with data in
				// hand.
				if !c.bufferedHeader() {
					break
				}
				continue
			}
			if err := c.header(); err != nil {
				return 0, err
			}
			continue
		}
		want := min(len(p)-n, c.left)
		if n > 0 {
			if c.r.Buffered() == 0 {
				break
			}
			want = min(want, c.r.Buffered())
		}
		m, err := c.r.Read(p[n : n+want])
		n += m
		c.left -= m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// header reads frame headers until one of stdout with data, keeping
// stderr's; it waits for them.
func (c *RelayConn) header() error {
	for c.left == 0 {
		var h [8]byte
		if _, err := io.ReadFull(c.r, h[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return io.EOF
			}
			return err
		}
		n := int(binary.BigEndian.Uint32(h[4:]))
		if h[0] == 2 { // stderr
			if _, err := io.CopyN(&limited{&c.stderr, 4096}, c.r, int64(n)); err != nil {
				return io.EOF
			}
			continue
		}
		c.left = n
	}
	return nil
}

// bufferedHeader is header from what is already buffered only: false
// where it would have to wait.
func (c *RelayConn) bufferedHeader() bool {
	for c.left == 0 {
		if c.r.Buffered() < 8 {
			return false
		}
		h, _ := c.r.Peek(8) // buffered: does not wait
		n := int(binary.BigEndian.Uint32(h[4:]))
		if h[0] == 2 {
			if c.r.Buffered() < 8+n {
				return false
			}
			_, _ = c.r.Discard(8)
			_, _ = io.CopyN(&limited{&c.stderr, 4096}, c.r, int64(n))
			continue
		}
		_, _ = c.r.Discard(8)
		c.left = n
	}
	return true
}

func (c *RelayConn) Write(p []byte) (int, error) { return c.hr.Conn.Write(p) }

// CloseWrite ends the relay command's stdin.
func (c *RelayConn) CloseWrite() error { return c.hr.CloseWrite() }

func (c *RelayConn) Close() error { c.hr.Close(); return nil }

func (c *RelayConn) stderrText() string {
	if s := strings.TrimSpace(c.stderr.String()); s != "" {
		return ": " + s
	}
	return ""
}

type limited struct {
	b *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
