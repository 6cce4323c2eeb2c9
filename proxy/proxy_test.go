package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/devenv-dev/devenv/registry"
)

// bench is a proxy on ephemeral loopback ports, routed from a registry
// file the test writes.
type bench struct {
	t          testing.TB
	ca         *CA
	regPath    string
	routes     *Routes
	srv        *Server
	https      string // 127.0.0.1:PORT
	http       string
	httpsPort  int
	downStates map[string]string
}

func newBench(t testing.TB) *bench {
	t.Helper()
	dir := t.TempDir()
	ca, err := LoadCA(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{t: t, ca: ca, regPath: filepath.Join(dir, "registry.yaml"), downStates: map[string]string{}}
	b.writeRegistry(nil)
	httpsLns, err := Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	httpLns, err := Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	b.https, b.http = httpsLns[0].Addr().String(), httpLns[0].Addr().String()
	b.httpsPort = httpsLns[0].Addr().(*net.TCPAddr).Port
	b.routes = NewRoutes(b.regPath)
	b.srv = NewServer(ca, b.routes.Table, b.httpsPort)
	b.srv.OwnPorts = []int{b.httpsPort, httpLns[0].Addr().(*net.TCPAddr).Port}
	b.srv.Down = func(r Route) (string, string) { return b.downStates[r.Service], "" }
	ctx, cancel := context.WithCancel(context.Background())
	go b.routes.Follow(ctx, 50*time.Millisecond)
	done := make(chan struct{})
	go func() { _ = b.srv.Serve(ctx, httpsLns, httpLns); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// writeRegistry routes each name to a port (service web of project shop,
// unless the name says SERVICE.PROJECT.localhost).
func (b *bench) writeRegistry(routes map[string]int) {
	b.t.Helper()
	reg := registry.New()
	byProject := map[string]*registry.Project{}
	for host, port := range routes {
		parts := strings.Split(host, ".")
		svc, project := parts[0], parts[1]
		p := byProject[project]
		if p == nil {
			p = &registry.Project{Name: project, Dir: "/src/" + project}
			byProject[project] = p
			reg.Projects = append(reg.Projects, p)
		}
		p.Reservations = append(p.Reservations, registry.Reservation{Service: svc, Role: "vite", Target: 80, Port: port, Protocol: "tcp"})
		p.Names = append(p.Names, registry.Name{Host: host, Service: svc, Target: 80})
	}
	data, err := registry.Encode(reg)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := registry.WriteFileAtomic(b.regPath, data, 0o600); err != nil {
		b.t.Fatal(err)
	}
	if b.routes != nil {
		b.routes.reloadForTest()
	}
}

// client trusts only the bench's CA and dials the proxy for every name, as
// a browser would through the system's *.localhost resolution.
func (b *bench) client(h2 bool) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		target := b.https
		if strings.HasSuffix(addr, ":80") {
			target = b.http
		}
		return (&net.Dialer{}).DialContext(ctx, network, target)
	}
	tr := &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: b.ca.Pool()}, ForceAttemptHTTP2: h2, MaxIdleConnsPerHost: 256}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (b *bench) url(host, path string) string { return URL(host, b.httpsPort) + path }

// backend serves h on a loopback port and returns the port.
func backend(t testing.TB, h http.Handler) (int, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	stop := func() { srv.Close() }
	t.Cleanup(stop)
	return ln.Addr().(*net.TCPAddr).Port, stop
}

func TestCAFilesAndNameConstraint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info.Mode(), err)
	}
	again, err := LoadCA(dir)
	if err != nil || !again.Certificate().Equal(ca.Certificate()) {
		t.Fatalf("a second load made another CA: %v", err)
	}
	if pub := ca.Certificate().PublicKeyAlgorithm; pub != x509.ECDSA {
		t.Fatalf("CA key %v, want ECDSA", pub)
	}
	verify := func(name string) error {
		leaf, err := ca.Leaf(name)
		if err != nil {
			return err
		}
		_, err = leaf.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()})
		return err
	}
	if err := verify("web.shop.localhost"); err != nil {
		t.Fatalf("a name under localhost: %v", err)
	}
	if err := verify("example.com"); err == nil {
		t.Fatal("the CA's certificate for example.com verified: the name constraint does not hold")
	}
	os.Chmod(filepath.Join(dir, KeyFile), 0o644)
	if _, err := LoadCA(dir); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Fatalf("a key others can read: %v", err)
	}
}

// The proxy keeps the Host, sets X-Forwarded-*, speaks HTTP/2 and HTTP/1.1,
// and redirects plain HTTP with 308.
func TestProxiesWithHeadersHTTP2AndRedirect(t *testing.T) {
	b := newBench(t)
	port, _ := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host=%s xff=%s proto=%s xfh=%s", r.Host, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"))
	}))
	b.writeRegistry(map[string]int{"web.shop.localhost": port})
	for _, h2 := range []bool{true, false} {
		resp, err := b.client(h2).Get(b.url("web.shop.localhost", "/x"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "host=web.shop.localhost:" + strconv.Itoa(b.httpsPort) + " xff=127.0.0.1 proto=https xfh=web.shop.localhost:" + strconv.Itoa(b.httpsPort)
		if resp.StatusCode != 200 || string(body) != want {
			t.Fatalf("h2=%v: %d %q, want %q", h2, resp.StatusCode, body, want)
		}
		if h2 && resp.ProtoMajor != 2 {
			t.Fatalf("HTTP/2 asked, got %s", resp.Proto)
		}
	}
	resp, err := b.client(false).Get("http://web.shop.localhost/a/b?c=d")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != b.url("web.shop.localhost", "/a/b?c=d") {
		t.Fatalf("redirect: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// An unknown name is never proxied: 404 with the live names as links. A
// route to the proxy's own port loops: 508. A service that does not answer
// gets a 502 page naming it, and the proxy goes on.
func TestUnknownLoopAndDownPages(t *testing.T) {
	b := newBench(t)
	port, stop := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	b.writeRegistry(map[string]int{"web.shop.localhost": port, "api.shop.localhost": b.httpsPort})
	get := func(host string) (int, string) {
		resp, err := b.client(false).Get(b.url(host, "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("nope.shop.localhost"); code != 404 || !strings.Contains(body, b.url("web.shop.localhost", "")) {
		t.Fatalf("unknown name: %d %s", code, body)
	}
	if code, _ := get("api.shop.localhost"); code != http.StatusLoopDetected {
		t.Fatalf("a route to the proxy itself: %d", code)
	}
	stop()
	b.downStates["web"] = "exited (exit code 1)"
	if code, body := get("web.shop.localhost"); code != 502 || !strings.Contains(body, "web of project shop") || !strings.Contains(body, "exited (exit code 1)") {
		t.Fatalf("a service that is down: %d %s", code, body)
	}
	// An unknown Host over plain HTTP is not redirected either.
	resp, err := b.client(false).Get("http://evil.example/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("plain HTTP for evil.example: %d", resp.StatusCode)
	}
}

// Server-sent events arrive as the backend sends them, and a backend
// killed mid-stream ends that stream while the proxy goes on serving.
func TestStreamsUnbufferedAndSurvivesABackendDying(t *testing.T) {
	b := newBench(t)
	release := make(chan struct{})
	port, stop := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-release
	}))
	b.writeRegistry(map[string]int{"electric.shop.localhost": port})
	resp, err := b.client(true).Get(b.url("electric.shop.localhost", "/v1/shape?live=true"))
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event before the stream ended: %q %v", line, err)
	}
	close(release)
	stop()
	resp.Body.Close()
	other, _ := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "alive") }))
	b.writeRegistry(map[string]int{"electric.shop.localhost": port, "web.shop.localhost": other})
	resp, err = b.client(true).Get(b.url("web.shop.localhost", "/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "alive" {
		t.Fatalf("after a backend died: %q", body)
	}
}

// Routes follow the registry without a restart; a connection already open
// to the old backend carries on.
func TestRoutesFollowTheRegistryLive(t *testing.T) {
	b := newBench(t)
	name := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) })
	}
	one, _ := backend(t, name("one"))
	two, _ := backend(t, name("two"))
	b.writeRegistry(map[string]int{"web.shop.localhost": one})
	c := b.client(true)
	read := func() string {
		resp, err := c.Get(b.url("web.shop.localhost", "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if got := read(); got != "one" {
		t.Fatalf("before the move: %q", got)
	}
	b.writeRegistry(map[string]int{"web.shop.localhost": two})
	deadline := time.Now().Add(time.Second)
	for read() != "two" {
		if time.Now().After(deadline) {
			t.Fatal("the route did not follow the registry within one second")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.writeRegistry(nil)
	if resp, err := c.Get(b.url("web.shop.localhost", "/")); err != nil || resp.StatusCode != 404 {
		t.Fatalf("a name whose reservation left the registry: %v %v", resp, err)
	}
}

// WebSocket upgrades go through, 200 at once, each echoing its messages.
func TestWebSockets(t *testing.T) {
	b := newBench(t)
	port, _ := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for {
			typ, msg, err := conn.Read(r.Context())
			if err != nil {
				return
			}
			if err := conn.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	}))
	b.writeRegistry(map[string]int{"vite.shop.localhost": port})
	c := b.client(false)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			u := strings.Replace(b.url("vite.shop.localhost", "/hmr"), "https://", "wss://", 1)
			conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c})
			if err != nil {
				errs <- err
				return
			}
			defer conn.CloseNow()
			msg := fmt.Sprintf("ping %d", i)
			if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				errs <- err
				return
			}
			if _, got, err := conn.Read(ctx); err != nil || string(got) != msg {
				errs <- fmt.Errorf("echo %q, %v", got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A request already running when its route moves runs to its end on the
// backend it started on, while new requests go to the new one.
func TestRouteMovesWhileARequestRuns(t *testing.T) {
	b := newBench(t)
	release := make(chan struct{})
	one, _ := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "one: start\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "one: end\n")
	}))
	two, _ := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "two") }))
	b.writeRegistry(map[string]int{"web.shop.localhost": one})
	c := b.client(true)
	resp, err := c.Get(b.url("web.shop.localhost", "/stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, _ := r.ReadString('\n'); line != "one: start\n" {
		t.Fatalf("stream began %q", line)
	}
	b.writeRegistry(map[string]int{"web.shop.localhost": two})
	other, err := c.Get(b.url("web.shop.localhost", "/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(other.Body)
	other.Body.Close()
	if string(body) != "two" {
		t.Fatalf("a new request after the move went to %q", body)
	}
	close(release)
	if rest, _ := io.ReadAll(r); string(rest) != "one: end\n" {
		t.Fatalf("the running request ended with %q", rest)
	}
}

// Projects on a remote engine are routed too: their ports are forwarded
// to this machine's loopback.
func TestRemoteProjectsAreRouted(t *testing.T) {
	reg := registry.New()
	reg.Projects = []*registry.Project{{Name: "shop", Dir: "/src/shop", Engine: "ABCD:EFGH", Endpoint: "ssh://box",
		Reservations: []registry.Reservation{{Service: "web", Role: "vite", Target: 5173, Port: 5180, Protocol: "tcp"}},
		Names:        []registry.Name{{Host: "web.shop.localhost", Service: "web", Target: 5173}}}}
	if r, ok := TableOf(reg).Lookup("WEB.shop.localhost:1443"); !ok || r.Port != 5180 || r.Service != "web" {
		t.Fatalf("route %+v %v", r, ok)
	}
}

// A service that calls another's name through the proxy, passing the
// request's headers on as dev proxies do, is a chain and goes through; one
// that calls its own name loops and gets 508.
func TestChainsGoThroughAndLoopsStop(t *testing.T) {
	b := newBench(t)
	c := b.client(false)
	relay := func(to string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, _ := http.NewRequest("GET", b.url(to, "/"), nil)
			req.Header = r.Header.Clone()
			resp, err := c.Do(req)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			fmt.Fprintf(w, "%d %s", resp.StatusCode, body)
		})
	}
	api, _ := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api") }))
	web, _ := backend(t, relay("api.shop.localhost"))
	self, _ := backend(t, relay("self.shop.localhost"))
	b.writeRegistry(map[string]int{"api.shop.localhost": api, "web.shop.localhost": web, "self.shop.localhost": self})
	read := func(host string) string {
		resp, err := c.Get(b.url(host, "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if got := read("web.shop.localhost"); got != "200 api" {
		t.Fatalf("web → api through the proxy: %q", got)
	}
	if got := read("self.shop.localhost"); !strings.HasPrefix(got, "508 ") {
		t.Fatalf("a service calling its own name: %.60q", got)
	}
}
