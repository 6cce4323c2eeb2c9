package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devenv-dev/devenv/internal/testbed"
)

// buildStandin builds the example's stand-in (its own module, no
// dependencies) once for the test.
func buildStandin(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "standin")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = filepath.Join(testbed.Root(), "examples", "enforcement", "standin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in: %v\n%s", err, b)
	}
	return out
}

// A real browser (Debian's chromium, headless) trusts devenv's CA once
// devenv proxy trust has put it in the test HOME's NSS database, loads the
// example's stand-in through its name with no certificate error, and the
// page's own script does a WebSocket round trip and reads server-sent
// events through the proxy; curl trusts it with --cacert. The stand-in for
// Phoenix refuses a WebSocket whose Origin is not PHX_HOST: devenv sets it
// to the name, so its WebSocket works through the proxy too.
func TestBrowserThroughTheProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chromium")
	}
	chromium := needBrowser(t)
	standin := buildStandin(t)
	front, back := freePort(t), freePort(t)
	f := newFakeCLI(t, fmt.Sprintf(`name: shop
services: {}
x-devenv:
  host:
    frontend:
      role: vite
      port: %d
      command: [%q]
      env: {STANDIN_FOR: "npm run dev"}
    backend:
      role: phoenix
      port: %d
      command: [%q]
      env: {STANDIN_FOR: "mix phx.server"}
`, front, standin, back, standin))
	f.env = slices.DeleteFunc(f.env, func(kv string) bool { return kv == "DEVENV_PROXY=off" })
	home := strings.TrimPrefix(f.env[0], "HOME=")
	t.Cleanup(func() { f.run("down"); f.run("proxy", "untrust"); f.run("proxy", "stop") })
	f.must("up")
	trust := f.run("proxy", "trust")
	if !strings.Contains(trust.stdout, "✔ NSS "+filepath.Join(home, ".pki", "nssdb")) {
		t.Fatalf("proxy trust did not add the CA to the test HOME's NSS database:\n%s", trust)
	}
	var st struct {
		HTTPS int    `json:"https_port"`
		CA    string `json:"ca"`
	}
	if err := json.Unmarshal([]byte(f.must("proxy", "status", "--format", "json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	origin := func(host string) string {
		if st.HTTPS == 443 {
			return "https://" + host
		}
		return "https://" + host + ":" + strconv.Itoa(st.HTTPS)
	}
	cl := proxyClient(t, st.CA, st.HTTPS)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := cl.Get(origin("frontend.shop.localhost") + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode != 404 {
				break // the routes follow the registry within a second
			}
		}
	}
	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-sS", "--cacert", st.CA, "--resolve", "frontend.shop.localhost:"+strconv.Itoa(st.HTTPS)+":127.0.0.1", origin("frontend.shop.localhost")+"/").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "stand-in for npm run dev") {
			t.Fatalf("curl --cacert: %v\n%s", err, out)
		}
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		// Chrome on Linux reads trust from $HOME/.pki/nssdb: the test's.
		chromedp.Env("HOME="+home))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	for _, host := range []string{"frontend.shop.localhost", "backend.shop.localhost", "shop.localhost"} {
		t.Run(host, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
			defer cancelTimeout()
			// A certificate the browser does not trust fails the navigation.
			if err := chromedp.Do(ctx, chromedp.Navigate(origin(host)+"/")); err != nil {
				t.Fatalf("%s in chromium: %v", origin(host), err)
			}
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("ws").textContent === "websocket: ping" && document.getElementById("sse").textContent.startsWith("events: 3")`))
			if err != nil {
				ws, _ := chromedp.Run(ctx, chromedp.Text("#ws"))
				sse, _ := chromedp.Run(ctx, chromedp.Text("#sse"))
				t.Fatalf("%s in chromium: %v (websocket %q, events %q)", origin(host), err, ws, sse)
			}
		})
	}
	if os.Geteuid() == 0 {
		untrust := f.run("proxy", "untrust")
		if untrust.code != 0 {
			t.Fatalf("proxy untrust: %s", untrust)
		}
	}
}

// needBrowser is chromium's path, with certutil beside it; where they are
// missing (scripts/test installs them where apt can) the test skips
// saying so, and fails when the run requires everything (CI).
func needBrowser(t *testing.T) string {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	_, errCert := exec.LookPath("certutil")
	if err == nil && errCert == nil {
		return chromium
	}
	msg := "chromium and certutil are needed (apt install chromium libnss3-tools; scripts/test installs them where apt can)"
	if testbed.Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
