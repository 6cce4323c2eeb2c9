package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSource is a machine of one project with a running and a crashed
// service; it records the actions it was asked to run.
type fakeSource struct {
	mu      sync.Mutex
	ran     []Action
	changes chan struct{}
	state   string
}

func (f *fakeSource) Machine(context.Context) (*Machine, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &Machine{Projects: []Project{{Name: "shop", Status: "running(1)", Dir: "/src/shop", URL: "https://shop.localhost", Services: []Service{
		{Name: "db", State: f.state, Health: "healthy", Status: "Up 3 minutes (healthy)", Since: time.Now().Add(-3 * time.Minute), Restarts: 2, Ports: []string{"127.0.0.1:5434->5432/tcp"}, CPU: "1.50%", Memory: "20MiB", Connect: true},
		{Name: "worker", State: "exited", ExitCode: 3, Status: "Exited (3)", Tail: []string{"panic: no queue"}},
	}}}, Ports: []Port{{Project: "shop", Service: "db", Role: "postgres", HostIP: "127.0.0.1", Port: 5435, Requested: 5434, Target: 5432, Protocol: "tcp", Holder: "free"},
		{Project: "other", Service: "db", Role: "postgres", HostIP: "127.0.0.1", Port: 5434, Target: 5432, Protocol: "tcp", Holder: "free"}}}, nil
}

func (f *fakeSource) API(_ context.Context, name string, q map[string]string) (any, error) {
	if name == "ps" && q["project"] != "shop" {
		return nil, &NotFoundError{What: "project " + q["project"]}
	}
	return []map[string]string{{"Service": "db", "api": name}}, nil
}

func (f *fakeSource) Changes(context.Context) <-chan struct{} { return f.changes }

func (f *fakeSource) Logs(ctx context.Context, of Action, _ int, line func(string)) error {
	line("first line of " + of.Service)
	line("ERROR: second")
	<-ctx.Done()
	return nil
}

func (f *fakeSource) Run(_ context.Context, a Action, line func(string)) (int, error) {
	f.mu.Lock()
	f.ran = append(f.ran, a)
	f.state = "exited"
	f.mu.Unlock()
	line("Container shop-db-1 Stopped")
	f.changes <- struct{}{}
	return 0, nil
}

func (f *fakeSource) ConnectURL(context.Context, Action) (string, error) {
	return "postgresql://postgres:secret@127.0.0.1:5434/shop", nil
}

func newTestServer(t *testing.T, readOnly bool) (*Server, *fakeSource, *httptest.Server) {
	t.Helper()
	src := &fakeSource{changes: make(chan struct{}, 4), state: "running"}
	srv := &Server{Source: src, Token: strings.Repeat("t", 64), ReadOnly: readOnly, CodeDir: t.TempDir()}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	own := strings.TrimPrefix(ts.URL, "http://")
	srv.Hosts, srv.Origin = []string{own}, ts.URL
	srv.Start(t.Context())
	return srv, src, ts
}

// bearer is the token a script sends; do sends it unless the header map
// says otherwise (an Authorization of its own, or "" for none).
var bearer = "Bearer " + strings.Repeat("t", 64)

func do(t *testing.T, method, url string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if _, ok := header["Authorization"]; !ok {
		req.Header.Set("Authorization", bearer)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// Every request is guarded: a foreign Host (DNS rebinding) is refused on
// every path; a path answers only its methods; an action needs the token
// and devenv's own Origin; read-only serves none.
func TestGuards(t *testing.T) {
	srv, src, ts := newTestServer(t, false)
	good := map[string]string{"Origin": ts.URL, TokenHeader: srv.Token, "Content-Type": "application/json"}
	action := `{"project":"shop","service":"db","action":"stop"}`
	for _, tc := range []struct {
		name, method, path, body string
		header                   map[string]string
		code                     int
	}{
		{"page", "GET", "/", "", nil, 200},
		{"page, not signed in", "GET", "/", "", map[string]string{"Authorization": ""}, 403},
		{"api, not signed in", "GET", "/api/machine", "", map[string]string{"Authorization": ""}, 403},
		{"events, not signed in", "GET", "/api/events", "", map[string]string{"Authorization": ""}, 403},
		{"logs, wrong token", "GET", "/api/logs?project=shop", "", map[string]string{"Authorization": "Bearer nope"}, 403},
		{"action, not signed in", "POST", "/api/actions", action, map[string]string{"Authorization": "", "Origin": ts.URL, TokenHeader: srv.Token}, 403},
		{"assets, not signed in", "GET", "/assets/style.css", "", map[string]string{"Authorization": ""}, 200},
		{"a made-up code", "GET", "/login?code=0123456789abcdef0123456789abcdef", "", map[string]string{"Authorization": ""}, 403},
		{"foreign host, page", "GET", "/", "", map[string]string{"Host": "evil.example:80"}, 403},
		{"foreign host, api", "GET", "/api/machine", "", map[string]string{"Host": "evil.example"}, 403},
		{"foreign host, events", "GET", "/api/events", "", map[string]string{"Host": "127.0.0.2"}, 403},
		{"foreign host, action", "POST", "/api/actions", action, map[string]string{"Host": "evil.example", "Origin": ts.URL, TokenHeader: srv.Token}, 403},
		{"method", "DELETE", "/api/machine", "", nil, 405},
		{"method on ps", "POST", "/api/ps?project=shop", "", nil, 405},
		{"GET an action", "GET", "/api/actions", "", nil, 405},
		{"no token", "POST", "/api/actions", action, map[string]string{"Origin": ts.URL}, 403},
		{"wrong token", "POST", "/api/actions", action, map[string]string{"Origin": ts.URL, TokenHeader: "x"}, 403},
		{"foreign origin", "POST", "/api/actions", action, map[string]string{"Origin": "https://evil.example", TokenHeader: srv.Token}, 403},
		{"no origin", "POST", "/api/actions", action, map[string]string{TokenHeader: srv.Token}, 403},
		{"connect url without token", "POST", "/api/connect-url", action, map[string]string{"Origin": ts.URL}, 403},
		{"unknown project", "POST", "/api/actions", `{"project":"nope","action":"up"}`, good, 404},
		{"unknown verb", "POST", "/api/actions", `{"project":"shop","action":"rm"}`, good, 400},
		{"unknown path", "GET", "/api/nope", "", nil, 404},
		{"ps of an unknown project", "GET", "/api/ps?project=nope", "", nil, 404},
		{"ps without a project", "GET", "/api/ps", "", nil, 400},
		{"allowed", "POST", "/api/actions", action, good, 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, tc.method, ts.URL+tc.path, tc.header, tc.body)
			if res.StatusCode != tc.code {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, res.StatusCode, body, tc.code)
			}
			if tc.code == 405 && res.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.ran) != 1 || src.ran[0] != (Action{Project: "shop", Service: "db", Verb: "stop"}) {
		t.Fatalf("actions run: %+v, want the one allowed", src.ran)
	}
}

func TestReadOnlyServesNoActions(t *testing.T) {
	srv, src, ts := newTestServer(t, true)
	res, body := do(t, "POST", ts.URL+"/api/actions", map[string]string{"Origin": ts.URL, TokenHeader: srv.Token}, `{"project":"shop","action":"down"}`)
	if res.StatusCode != 403 || !strings.Contains(body, "read-only") || len(src.ran) != 0 {
		t.Fatalf("read-only action: %d %s", res.StatusCode, body)
	}
	_, page := do(t, "GET", ts.URL+"/", nil, "")
	if strings.Contains(page, srv.Token) || !strings.Contains(page, "data-read-only") {
		t.Fatal("a read-only page carries the token or offers actions")
	}
}

// The page is whole without scripts: every project and service with its
// state, health as text, uptime, restarts, exit code, ports, resource use,
// a crashed service's last lines, and the port map with why a port moved.
func TestPageReadableWithoutScripts(t *testing.T) {
	_, _, ts := newTestServer(t, false)
	res, page := do(t, "GET", ts.URL+"/?logs=shop/db&filter=ERROR&errors=1", nil, "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d", res.StatusCode)
	}
	for _, want := range []string{
		`id="svc-shop-db"`, ">healthy<", "3 minutes", `class="restarts">2<`, "127.0.0.1:5434-&gt;5432/tcp", "1.50%", "20MiB",
		`id="svc-shop-worker"`, `class="exit">3<`, "panic: no queue", "https://shop.localhost",
		"5434 asked for; it is reserved by other (service db)", `value="ERROR"`, `value="shop/db" selected`, "checked",
		"<noscript>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("the page is served without its security headers")
	}
	_, frag := do(t, "GET", ts.URL+"/?fragment=machine", nil, "")
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="svc-shop-db"`) {
		t.Error("the fragment is not the machine part alone")
	}
}

// An action's output and the change it makes come on the event stream.
func TestEventsCarryActionsAndChanges(t *testing.T) {
	srv, _, ts := newTestServer(t, false)
	req, _ := http.NewRequest("GET", ts.URL+"/api/events", nil)
	req.Header.Set("Authorization", bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		name := ""
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "event: "); ok {
				name = n
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				events <- name + " " + d
			}
		}
	}()
	if ev := <-events; !strings.HasPrefix(ev, "hello") {
		t.Fatalf("first event %q", ev)
	}
	do(t, "POST", ts.URL+"/api/actions", map[string]string{"Origin": ts.URL, TokenHeader: srv.Token}, `{"project":"shop","service":"db","action":"stop"}`)
	var got []string
	deadline := time.After(5 * time.Second)
	for len(got) < 3 {
		select {
		case ev := <-events:
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("events so far: %q", got)
		}
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{`"line":"Container shop-db-1 Stopped"`, `"done":true`, "change "} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %s in %q", want, joined)
		}
	}
	_, m := do(t, "GET", ts.URL+"/api/machine", nil, "")
	var machine Machine
	if err := json.Unmarshal([]byte(m), &machine); err != nil || machine.Projects[0].Services[0].State != "exited" {
		t.Fatalf("after the change, /api/machine says %s", m)
	}
}

func TestLogsStream(t *testing.T) {
	_, _, ts := newTestServer(t, false)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/logs?project=shop&service=db", nil)
	req.Header.Set("Authorization", bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var lines []string
			if err := json.Unmarshal([]byte(d), &lines); err != nil || len(lines) != 2 || lines[0] != "first line of db" {
				t.Fatalf("lines %s", d)
			}
			return
		}
	}
	t.Fatal("no lines")
}

func TestTokenIsPrivateAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ui")
	tok, err := LoadToken(dir)
	if err != nil || len(tok) < 32 {
		t.Fatalf("token %q: %v", tok, err)
	}
	st, _ := os.Stat(filepath.Join(dir, "token"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", st.Mode())
	}
	if again, _ := LoadToken(dir); again != tok {
		t.Fatal("a second server got another token")
	}
	link := filepath.Join(t.TempDir(), "ui")
	os.MkdirAll(link, 0o700)
	os.Symlink(filepath.Join(dir, "token"), filepath.Join(link, "token"))
	if _, err := LoadToken(link); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("a symlinked token file was followed: %v", err)
	}
}

// A page that reconnects gets the events it missed (Last-Event-ID), so an
// action's end is never lost to a dropped connection.
func TestEventsReplayedAfterAReconnect(t *testing.T) {
	srv, _, ts := newTestServer(t, false)
	for i := range 3 {
		srv.publishAction(actionEvent{ID: 7, Command: "devenv -p shop stop db", Line: "line " + string(rune('a'+i))})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/events", nil)
	req.Header.Set("Last-Event-ID", "1")
	req.Header.Set("Authorization", bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	var ids, lines []string
	for sc.Scan() && len(lines) < 2 {
		if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			ids = append(ids, id)
		}
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(d, "line ") {
			lines = append(lines, d)
		}
	}
	if strings.Join(ids, ",") != "2,3" || !strings.Contains(lines[0], "line b") || !strings.Contains(lines[1], "line c") {
		t.Fatalf("replayed ids %v, lines %v", ids, lines)
	}
}

// devenv ui's link signs a browser in once: the code becomes an HttpOnly,
// SameSite cookie, and is spent.
func TestSignInWithACode(t *testing.T) {
	srv, _, ts := newTestServer(t, false)
	code, err := IssueCode(srv.CodeDir)
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(ts.URL + "/login?code=" + code)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookies := res.Cookies()
	if res.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: %d %v", res.StatusCode, cookies)
	}
	if cookies[0].Value == srv.Token {
		t.Fatal("the cookie holds the token (a browser sends it to every port of the host)")
	}
	req, _ := http.NewRequest("GET", ts.URL+"/", nil)
	req.AddCookie(cookies[0])
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("the page with the cookie: %v %v", res.StatusCode, err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(page), srv.Token) || !strings.Contains(string(page), Derive(srv.Token, "action")) {
		t.Fatal("the page holds the token itself, or not its action key")
	}
	// The action key acts, but does not sign in.
	if res, _ := do(t, "GET", ts.URL+"/api/machine", map[string]string{"Authorization": "Bearer " + Derive(srv.Token, "action")}, ""); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the action key signed in: %d", res.StatusCode)
	}
	if res, _ := do(t, "POST", ts.URL+"/api/actions", map[string]string{"Authorization": "", "Cookie": cookieName + "=" + cookies[0].Value, "Origin": ts.URL, TokenHeader: Derive(srv.Token, "action")}, `{"project":"shop","action":"up"}`); res.StatusCode != http.StatusAccepted {
		t.Fatalf("an action with the page's key: %d", res.StatusCode)
	}
	if res, _ := noRedirect.Get(ts.URL + "/login?code=" + code); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a spent code signed in again: %d", res.StatusCode)
	}
}

// whoami proves the server has the token without giving it.
func TestWhoamiProvesTheToken(t *testing.T) {
	srv, _, ts := newTestServer(t, false)
	nonce := "0123456789abcdef0123"
	res, body := do(t, "GET", ts.URL+"/whoami?nonce="+nonce, map[string]string{"Authorization": ""}, "")
	if res.StatusCode != 200 || !strings.Contains(body, Derive(srv.Token, "whoami:"+nonce)) || strings.Contains(body, srv.Token) {
		t.Fatalf("whoami: %d %s", res.StatusCode, body)
	}
}

// The page devenv ui opens by its path is private, and sends the browser
// on to the link.
func TestSignInPageIsPrivate(t *testing.T) {
	dir := t.TempDir()
	path, err := SignInPage(dir, "https://devenv.localhost/login?code=abc")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	b, _ := os.ReadFile(path)
	if st.Mode().Perm() != 0o600 || !strings.Contains(string(b), `url=https://devenv.localhost/login?code=abc`) {
		t.Fatalf("sign-in page %v: %s", st.Mode(), b)
	}
}
