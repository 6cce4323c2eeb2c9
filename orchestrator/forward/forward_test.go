package forward

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer answers each connection with what it read, in upper case,
// after the client's half-close: a far side that needs the half-close
// passed on.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				c.Write(bytes.ToUpper(b))
			}()
		}
	}()
	return ln.Addr().String()
}

func freeLocalPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// dialTo is a Dialer that connects to far whatever address it is asked
// for, as a relay would.
func dialTo(far string) Dialer {
	return func(ctx context.Context, addr string) (Conn, error) {
		c, err := net.Dial("tcp", far)
		if err != nil {
			return nil, err
		}
		return c.(*net.TCPConn), nil
	}
}

// connectLocal connects to the forward's local port once it listens.
func connectLocal(tb testing.TB, port int) net.Conn {
	tb.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var err error
	for range 200 {
		var c net.Conn
		if c, err = net.Dial("tcp", addr); err == nil {
			return c
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("the forward never listened on %s: %v", addr, err)
	return nil
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeRelaysThroughTheDialer: a local connection reaches the remote
// address the spec names, the half-close is passed on, the answer comes
// back; ending ctx frees the port.
func TestServeRelaysThroughTheDialer(t *testing.T) {
	far := echoServer(t)
	local := freeLocalPort(t)
	var mu sync.Mutex
	var dialed []string
	dial := func(ctx context.Context, addr string) (Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		return dialTo(far)(ctx, addr)
	}
	spec := Spec{Project: "p", Ports: []Port{{Service: "db", Local: local, Remote: 5432, RemoteIP: "127.0.0.1"}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := &syncBuf{}
	go func() { done <- Serve(ctx, spec, dial, log) }()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(local))
	c := connectLocal(t, local)
	c.Write([]byte("select 1"))
	c.(*net.TCPConn).CloseWrite()
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "SELECT 1" {
		t.Fatalf("answer %q, want %q", got, "SELECT 1")
	}
	mu.Lock()
	if !reflect.DeepEqual(dialed, []string{"127.0.0.1:5432"}) {
		t.Errorf("dialed %v, want the spec's remote address", dialed)
	}
	mu.Unlock()
	if !strings.Contains(log.String(), "(service db)") {
		t.Errorf("log: %q", log.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port is still held after Serve returned: %v", err)
	}
	ln.Close()
}

// TestServeFailsOnAHeldPort: a port held here is an error naming the
// service and port, and the ports already opened are let go.
func TestServeFailsOnAHeldPort(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	heldPort := held.Addr().(*net.TCPAddr).Port
	first := freeLocalPort(t)
	spec := Spec{Ports: []Port{{Service: "web", Local: first, Remote: 80}, {Service: "db", Local: heldPort, Remote: 5432}}}
	err = Serve(context.Background(), spec, nil, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "forward db port "+strconv.Itoa(heldPort)) {
		t.Fatalf("err = %v, want one naming db and its port", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first)))
	if err != nil {
		t.Fatalf("port %d kept after the failure: %v", first, err)
	}
	ln.Close()
}

// TestServeClosesWhenTheDialFails: the local client sees its connection
// closed, and the failure is logged with the service.
func TestServeClosesWhenTheDialFails(t *testing.T) {
	local := freeLocalPort(t)
	dial := func(ctx context.Context, addr string) (Conn, error) { return nil, errors.New("relay gone") }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &syncBuf{}
	go Serve(ctx, Spec{Ports: []Port{{Service: "cache", Local: local, Remote: 6379, RemoteIP: "127.0.0.1"}}}, dial, log)
	c := connectLocal(t, local)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ne net.Error
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("read = %d, %v; want the connection closed", n, err)
	}
	c.Close()
	for range 100 {
		if strings.Contains(log.String(), "forward cache port") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "relay gone") {
		t.Errorf("log: %q", log.String())
	}
}

func TestSpecRoundTrip(t *testing.T) {
	spec := Spec{Project: "shop", Relay: "abc", Engine: Engine{Host: "ssh://me@box", TLSVerify: true, CertPath: "/c"},
		Ports: []Port{{Service: "db", Local: 5435, Remote: 5435, RemoteIP: "127.0.0.1"}}}
	got, err := Decode(spec.Encode())
	if err != nil || !reflect.DeepEqual(got, spec) {
		t.Fatalf("Decode(Encode) = %+v, %v", got, err)
	}
	if _, err := Decode("{"); err == nil {
		t.Fatal("Decode accepted broken JSON")
	}
}

func TestListingLine(t *testing.T) {
	socks := []Listening{{Port: 6379, Protocol: "tcp"}, {Port: 22, Protocol: "tcp"}, {Port: 22, Protocol: "tcp"}, {Port: 53, Protocol: "udp"}}
	line := ListingLine(socks, Beacon{Port: 40123, Token: "c0ffee"})
	if line != "devenv-relay-listening/1 probe=40123/c0ffee tcp:22,6379 udp:53 end" {
		t.Fatalf("line %q", line)
	}
	got, probe, ok := ParseListingLine(line + "\n")
	want := []Listening{{Port: 22, Protocol: "tcp"}, {Port: 6379, Protocol: "tcp"}, {Port: 53, Protocol: "udp"}}
	if !ok || !reflect.DeepEqual(got, want) || probe != (Beacon{Port: 40123, Token: "c0ffee"}) {
		t.Fatalf("parse = %v, %v, %v", got, probe, ok)
	}
	if got, probe, ok := ParseListingLine(ListingLine(nil, Beacon{})); !ok || len(got) != 0 || probe.Port != 0 {
		t.Fatalf("an empty listing: %v, %v, %v", got, probe, ok)
	}
}

func TestParseListingLineRefuses(t *testing.T) {
	for _, line := range []string{
		"",
		"hello",
		"devenv-relay-listening/1 tcp:22,63",      // cut short: no end mark
		"devenv-relay-listening/2 tcp:22 end",     // another version
		"devenv-relay-listening/1 tcp22 end",      // no protocol separator
		"devenv-relay-listening/1 tcp:22,x end",   // not a number
		"devenv-relay-listening/1 tcp:22,,80 end", // an empty field
		"devenv-relay-listening/1",
		"devenv-relay-listening/1 probe=x/1 end",   // not a port
		"devenv-relay-listening/1 probe=40123 end", // no token
	} {
		if socks, _, ok := ParseListingLine(line); ok {
			t.Errorf("ParseListingLine(%q) = %v, want refused", line, socks)
		}
	}
}

// BenchmarkServe100MiB is the forward's own share of a copy: 100 MiB from
// a client through Serve to a server on loopback (the dialer connects
// straight there; a remote engine adds its relay's stream).
func BenchmarkServe100MiB(b *testing.B) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() {
		for {
			c, err := sink.Accept()
			if err != nil {
				return
			}
			go func() {
				n, _ := io.Copy(io.Discard, c)
				c.Write([]byte(strconv.FormatInt(n, 10)))
				c.Close()
			}()
		}
	}()
	local := freeLocalPort(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, Spec{Ports: []Port{{Service: "db", Local: local, Remote: 1, RemoteIP: "127.0.0.1"}}}, dialTo(sink.Addr().String()), io.Discard)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(local))
	connectLocal(b, local).Close()
	const size = 100 << 20
	chunk := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		for range size / len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != strconv.Itoa(size) {
			b.Fatalf("the far side read %q bytes, want %d", got, size)
		}
	}
}

// TestServeClosesTheFarSideOnAReset: a client that resets its connection
// (a killed psql) ends the far side too, even when the server never
// writes: an idle server would otherwise keep the relay for ever.
func TestServeClosesTheFarSideOnAReset(t *testing.T) {
	srv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	farClosed := make(chan struct{})
	go func() {
		c, err := srv.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, c) // never writes; returns once the forward lets go
		c.Close()
		close(farClosed)
	}()
	local := freeLocalPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, Spec{Ports: []Port{{Service: "db", Local: local, Remote: 5432, RemoteIP: "127.0.0.1"}}}, dialTo(srv.Addr().String()), io.Discard)
	c := connectLocal(t, local)
	c.Write([]byte("begin"))
	time.Sleep(50 * time.Millisecond)
	c.(*net.TCPConn).SetLinger(0) // close with a reset
	c.Close()
	select {
	case <-farClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("the far side is still open after the client's reset")
	}
}

func TestHeldPort(t *testing.T) {
	log := "forwarding 127.0.0.1:3001 to 127.0.0.1:3001 on the engine's host (service electric)\n" +
		"devenv forward: forward postgres port 5435: listen tcp 127.0.0.1:5435: bind: address already in use\n"
	if svc, port, ok := HeldPort(log); !ok || svc != "postgres" || port != 5435 {
		t.Fatalf("HeldPort = %q %d %v", svc, port, ok)
	}
	for _, other := range []string{"", "devenv forward: forward spec: unexpected end of JSON input", "devenv forward: forward db port 1: accept: use of closed network connection"} {
		if _, _, ok := HeldPort(other); ok {
			t.Errorf("HeldPort(%q) found a held port", other)
		}
	}
}
