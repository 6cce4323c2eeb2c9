package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// proxyClient trusts only the CA at caPath and sends every name to the
// proxy's HTTPS port on 127.0.0.1, as a browser resolving *.localhost does.
func proxyClient(t *testing.T, caPath string, port int) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caPath)
	}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
}

// A project's HTTP services answer at their names through the proxy up
// starts: a host service with what it needs behind it, the main name, a
// container that does not answer (502 naming it), a stopped host service
// (502 with its log), a released project (404); names show in ps, ports,
// ls and open, and env files get {SERVICE.url}.
func TestNamesThroughTheProxy(t *testing.T) {
	webPort, apiPort := freePort(t), freePort(t)
	f := newFakeCLI(t, fmt.Sprintf(`name: shop
services:
  api:
    image: demo/api:dev
    ports: ["%d:4000"]
    x-devenv: {role: phoenix}
x-devenv:
  host:
    web:
      role: vite
      port: %d
      command: [%q]
      env: {DEVENV_TEST_HTTP_SERVE: "1"}
  env_files:
    .env: {APP_URL: "{web.url}", API_HOST: "{api.host}"}
`, apiPort, webPort, os.Args[0]))
	f.env = slices.DeleteFunc(f.env, func(kv string) bool { return kv == "DEVENV_PROXY=off" })
	t.Cleanup(func() { f.run("down"); f.run("proxy", "stop") })
	up := f.must("up")
	var st struct {
		Running bool   `json:"running"`
		HTTPS   int    `json:"https_port"`
		CA      string `json:"ca"`
	}
	if err := json.Unmarshal([]byte(f.must("proxy", "status", "--format", "json").stdout), &st); err != nil || !st.Running {
		t.Fatalf("proxy status: %+v %v", st, err)
	}
	url := func(host string) string {
		if st.HTTPS == 443 {
			return "https://" + host
		}
		return "https://" + host + ":" + strconv.Itoa(st.HTTPS)
	}
	if !strings.Contains(up.stderr, url("web.shop.localhost")) || !strings.Contains(up.stderr, url("shop.localhost")) {
		t.Fatalf("up did not print the names:\n%s", up.stderr)
	}
	if ca := strings.TrimSpace(f.must("proxy", "ca").stdout); ca != st.CA {
		t.Fatalf("proxy ca printed %q, status says %q", ca, st.CA)
	}
	c := proxyClient(t, st.CA, st.HTTPS)
	get := func(host string) (int, string) {
		t.Helper()
		resp, err := c.Get(url(host) + "/")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	hostHeader := "web.shop.localhost"
	if st.HTTPS != 443 {
		hostHeader += ":" + strconv.Itoa(st.HTTPS)
	}
	want := "host=" + hostHeader + " proto=https ca=" + st.CA + " vite=web.shop.localhost"
	// The routes follow the registry within a second of up writing it.
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, _ := get("web.shop.localhost"); code != 404 {
			break
		}
	}
	if code, body := get("web.shop.localhost"); code != 200 || body != want {
		t.Fatalf("web: %d %q, want %q", code, body, want)
	}
	if code, body := get("shop.localhost"); code != 200 || !strings.Contains(body, "vite=web.shop.localhost") {
		t.Fatalf("the main name: %d %q", code, body)
	}
	if code, body := get("api.shop.localhost"); code != 502 || !strings.Contains(body, "container api of project shop") {
		t.Fatalf("a container that does not answer: %d %s", code, body)
	}
	env, err := os.ReadFile(filepath.Join(f.dir, ".env"))
	if err != nil || !strings.Contains(string(env), "APP_URL="+url("web.shop.localhost")+"\n") || !strings.Contains(string(env), "API_HOST=api.shop.localhost\n") {
		t.Fatalf(".env: %s %v", env, err)
	}
	for _, args := range [][]string{{"ps", "--format", "json"}, {"ports", "--format", "json"}, {"ls", "--format", "json"}, {"open", "--print", "web"}} {
		if out := f.must(args...).stdout; !strings.Contains(out, url("web.shop.localhost")) && !strings.Contains(out, url("shop.localhost")) {
			t.Errorf("devenv %s shows no name:\n%s", strings.Join(args, " "), out)
		}
	}
	f.must("stop", "web")
	if code, body := get("web.shop.localhost"); code != 502 || !strings.Contains(body, "host service web of project shop") || !strings.Contains(body, "serving on") {
		t.Fatalf("a stopped host service: %d %s", code, body)
	}
	f.must("down")
	f.must("ports", "release", "shop")
	deadline := time.Now().Add(time.Second)
	for {
		code, _ := get("web.shop.localhost")
		if code == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a released project's name still answers %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Before the proxy ever ran: status says so (exit 1), logs has nothing,
// open refuses a project without names yet (exit 2), the markdown map and
// ls know nothing of the proxy, and a name placeholder of a database is
// refused when the file loads.
func TestProxyCommandsBeforeAProxy(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	for _, c := range []struct {
		args        []string
		code        int
		out, errOut string
	}{
		{[]string{"proxy", "status"}, 1, "proxy: not running", ""},
		{[]string{"proxy", "status", "--format", "json"}, 1, `"running":false`, ""},
		{[]string{"proxy", "logs"}, 1, "", "no log"},
		{[]string{"open", "--print"}, 2, "", "has no name yet"},
		{[]string{"open", "--print", "nosuch"}, 2, "", "nosuch"},
		{[]string{"proxy", "stop"}, 0, "", "not running"},
		{[]string{"proxy", "bogus"}, 2, "", "bogus"},
	} {
		r := f.run(c.args...)
		if r.code != c.code || !strings.Contains(r.stdout, c.out) || !strings.Contains(r.stderr, c.errOut) {
			t.Errorf("devenv %s: want exit %d with %q / %q, got %s", strings.Join(c.args, " "), c.code, c.out, c.errOut, r)
		}
	}
	os.WriteFile(filepath.Join(f.dir, "docker-compose.dev.yml"), []byte(strings.Replace(goldenFile, "  stack: Golden + Fake\n", "  stack: Golden + Fake\n  env_files:\n    .env: {DB: \"{db.url}\"}\n", 1)), 0o644)
	if r := f.run("config", "-q"); r.code != 2 || !strings.Contains(r.stderr, "db has no name") {
		t.Errorf("{db.url}: %s", r)
	}
}
