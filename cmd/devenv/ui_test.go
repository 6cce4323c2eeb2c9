package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/dashboard"
)

// uiServer serves the dashboard of f's machine (its fake engine, registry
// and state) as devenv ui --listen would.
func uiServer(t *testing.T, f *fakeCLI, readOnly bool) (*httptest.Server, *dashboard.Server) {
	t.Helper()
	e := env{}
	for _, kv := range f.env {
		k, v, _ := strings.Cut(kv, "=")
		e[k] = v
	}
	a := &app{env: e, dir: f.dir, local: f.eng, stdout: io.Discard, stderr: io.Discard, rawStdout: io.Discard}
	ts := httptest.NewUnstartedServer(nil)
	own := ts.Listener.Addr().String()
	srv, err := a.dashboardServer(t.Context(), []string{own}, "http://"+own, readOnly)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, srv
}

// uiToken is the token of the server getJSON asks.
var uiToken string

func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+uiToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v T
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return v
}

// The API answers with what the CLI's --format json prints, and the
// picture has every service of every project, from the same commands.
func TestDashboardAnswersAsTheCLI(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("up")
	ts, srv := uiServer(t, f, false)
	uiToken = srv.Token

	var ls []map[string]any
	json.Unmarshal([]byte(f.must("ls", "--format", "json").stdout), &ls)
	if got := getJSON[[]map[string]any](t, ts.URL+"/api/ls"); len(got) != 1 || got[0]["Name"] != "gold" || len(got[0]) != len(ls[0]) {
		t.Fatalf("/api/ls = %v, ls --format json = %v", got, ls)
	}
	want := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(f.must("ps", "-a", "--format", "json").stdout), "\n") {
		var row map[string]any
		json.Unmarshal([]byte(line), &row)
		want[row["Name"].(string)+" "+row["State"].(string)] = true
	}
	ps := getJSON[[]map[string]any](t, ts.URL+"/api/ps?project=gold")
	for _, row := range ps {
		if !want[row["Name"].(string)+" "+row["State"].(string)] || row["Publishers"] == nil {
			t.Errorf("/api/ps row %v is not one of ps -a --format json's", row)
		}
	}
	if len(ps) != len(want) {
		t.Fatalf("/api/ps has %d rows, ps -a %d", len(ps), len(want))
	}
	ports := getJSON[[]map[string]any](t, ts.URL+"/api/ports")
	if len(ports) != 3 || ports[0]["project"] != "gold" || ports[0]["holder"] == nil {
		t.Fatalf("/api/ports = %v", ports)
	}
	m := getJSON[dashboard.Machine](t, ts.URL+"/api/machine")
	if len(m.Projects) != 1 || len(m.Projects[0].Services) != 3 || len(m.Ports) != 3 {
		t.Fatalf("/api/machine = %+v", m)
	}
	for _, s := range m.Projects[0].Services {
		if s.State != "running" || len(s.Ports) == 0 {
			t.Errorf("service %+v", s)
		}
	}

	if health := getJSON[[]map[string]any](t, ts.URL+"/api/health?project=gold"); len(health) < 3 || health[0]["project"] != "gold" {
		t.Fatalf("/api/health = %v", health)
	}
	// connect --url through the API (a POST with the token: it holds the
	// password).
	creq, _ := http.NewRequest("POST", ts.URL+"/api/connect-url", strings.NewReader(`{"project":"gold","service":"db"}`))
	creq.Header.Set("Origin", ts.URL)
	creq.Header.Set(dashboard.TokenHeader, srv.Token)
	creq.Header.Set("Authorization", "Bearer "+srv.Token)
	cres, err := http.DefaultClient.Do(creq)
	if err != nil {
		t.Fatal(err)
	}
	var cu struct{ URL string }
	json.NewDecoder(cres.Body).Decode(&cu)
	cres.Body.Close()
	if want := strings.TrimSpace(f.must("connect", "--url", "db").stdout); cu.URL != want {
		t.Fatalf("/api/connect-url = %q, connect --url = %q", cu.URL, want)
	}
	// The page of the machine, and the logs of a service to their end.
	lreq, _ := http.NewRequest("GET", ts.URL+"/api/logs?project=gold&service=db", nil)
	lreq.Header.Set("Authorization", "Bearer "+srv.Token)
	lres, err := http.DefaultClient.Do(lreq)
	if err != nil || lres.StatusCode != 200 {
		t.Fatalf("/api/logs: %v %v", lres, err)
	}
	lres.Body.Close()

	// An action runs the CLI's command: stop db, and the picture shows it.
	req, _ := http.NewRequest("POST", ts.URL+"/api/actions", strings.NewReader(`{"project":"gold","service":"cache","action":"stop"}`))
	req.Header.Set("Origin", ts.URL)
	req.Header.Set(dashboard.TokenHeader, srv.Token)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("stop action: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := getJSON[dashboard.Machine](t, ts.URL+"/api/machine")
		i := slices.IndexFunc(m.Projects[0].Services, func(s dashboard.Service) bool { return s.Name == "cache" })
		if i >= 0 && m.Projects[0].Services[i].State == "exited" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache did not stop: %+v", m.Projects[0].Services)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := f.must("ps", "--format", "json"); strings.Contains(r.stdout, `"Service":"cache"`) {
		t.Fatalf("ps still lists cache running: %s", r.stdout)
	}
}

// Where names are off, devenv ui runs a server of its own on the ui role's
// port, supervised; its link signs in once; proxy stop stops it.
func TestDashboardWithoutNames(t *testing.T) {
	h := newHarness(t)
	h.env = append(h.env, "XDG_STATE_HOME="+filepath.Join(t.TempDir(), "state"))
	t.Cleanup(func() { h.run("proxy", "stop") })
	link := strings.TrimSpace(h.must("ui", "--print").stdout)
	if !strings.HasPrefix(link, "http://127.0.0.1:") || !strings.Contains(link, "/login?code=") {
		t.Fatalf("ui --print = %q", link)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, err := c.Get(link)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("the link: %v %v", res, err)
	}
	res.Body.Close()
	base := strings.SplitN(link, "/login", 2)[0]
	if res, err := http.Get(base + "/api/ls"); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("the API without signing in: %v %v", res, err)
	}
	if res, err := c.Get(base + "/api/ls"); err != nil || res.StatusCode != 200 {
		t.Fatalf("the API signed in: %v %v", res, err)
	}
	if !strings.Contains(mustRead(t, h.registry), `"name":"devenv.ui"`) {
		t.Fatal("the ui port is not reserved in the registry")
	}
	h.must("proxy", "stop")
	if _, err := http.Get(base + "/"); err == nil {
		t.Fatal("the dashboard still answers after proxy stop")
	}
}

func TestShownChange(t *testing.T) {
	for action, want := range map[string]bool{"start": true, "die": true, "health_status: healthy": true, "destroy": true,
		"kill": false, "exec_start: /bin/sh -c pg_isready": false, "exec_die": false, "attach": false, "top": false} {
		if shownChange(action) != want {
			t.Errorf("shownChange(%q) = %v", action, !want)
		}
	}
}
