package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devenv-dev/devenv/dashboard"
	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/moby/moby/client"
)

// The dashboard in a real browser (Debian's chromium, headless), served by
// the proxy at https://devenv.localhost for the example stack on the
// engine: every service shows; the stop button stops redis and the page
// follows without a reload; logs stream in; the log filter survives a
// reload; an action without the token, from another Origin or for another
// Host is 403. It takes the screenshot the README shows
// (UPDATE_DOCS=1 writes it to docs/dashboard.png).
func TestIntegrationDashboardInABrowser(t *testing.T) {
	h, c := exampleHarness(t)
	chromium := needBrowser(t)
	h.env = slices.DeleteFunc(h.env, func(kv string) bool { return kv == "DEVENV_PROXY=off" })
	home := strings.TrimPrefix(h.env[0], "HOME=")
	t.Cleanup(func() { h.run("down"); h.run("proxy", "untrust"); h.run("proxy", "stop") })
	h.must("up")
	h.must("proxy", "trust")
	url := strings.TrimSpace(h.must("ui", "--print").stdout)
	var st struct {
		HTTPS int    `json:"https_port"`
		CA    string `json:"ca"`
		PID   int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(h.must("proxy", "status", "--format", "json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	origin := "https://devenv.localhost" + map[bool]string{true: "", false: ":" + strconv.Itoa(st.HTTPS)}[st.HTTPS == 443]
	if !strings.HasPrefix(url, origin+"/login?code=") {
		t.Fatalf("ui --print = %q, want a sign-in link to %s", url, origin)
	}

	// The guards, from outside the page.
	cl := proxyClient(t, st.CA, st.HTTPS)
	token := mustRead(t, filepath.Join(home, ".local", "state", "devenv", "ui", "token"))
	post := func(host, from, tok string) int {
		req, _ := http.NewRequest("POST", origin+"/api/actions", strings.NewReader(`{"project":"sertantai-enforcement","service":"redis","action":"stop"}`))
		req.Host = host
		if from != "" {
			req.Header.Set("Origin", from)
		}
		if tok != "" {
			req.Header.Set(dashboard.TokenHeader, strings.TrimSpace(tok))
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token)) // signed in: the token's checks are the action's
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	own := strings.TrimPrefix(origin, "https://")
	for _, tc := range []struct {
		what            string
		host, from, tok string
	}{
		{"no token", own, origin, ""},
		{"a foreign Origin", own, "https://evil.example", token},
		{"no Origin", own, "", token},
		{"another Host", "evil.example", origin, token},
	} {
		// Another Host never reaches the dashboard: the proxy answers it as
		// a name it does not serve (404); the dashboard's own refusal of a
		// foreign Host (403, --listen) is tested without a browser.
		if code := post(tc.host, tc.from, tc.tok); code != http.StatusForbidden && (tc.host == own || code != http.StatusNotFound) {
			t.Errorf("an action with %s: %d, want 403", tc.what, code)
		}
	}

	if res, err := cl.Get(origin + "/api/machine"); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("the API without signing in: %v %v", res.StatusCode, err)
	}

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000), chromedp.Env("HOME="+home))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s in chromium: %v", url, err)
	}
	row := "#svc-sertantai-enforcement-"
	for _, svc := range []string{"postgres", "electric", "redis", "backend", "frontend"} {
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("`+row+svc+` .state")?.textContent.startsWith("running")`)); err != nil {
			t.Fatalf("%s is not shown running: %v", svc, err)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("live").textContent === "live"`)); err != nil {
		t.Fatalf("the page did not join the event stream: %v", err)
	}
	// The engine's healthcheck says healthy a few seconds after devenv's
	// own readiness probe did: the page follows its health_status event.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("`+row+`postgres .health")?.textContent === "healthy"`)); err != nil {
		health, _ := chromedp.Run(ctx, chromedp.Text(row+"postgres .health"))
		t.Errorf("postgres's health says %q: %v", health, err)
	}
	// Stop redis with its button: the page follows the engine's events.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	clicked := time.Now()
	if err := chromedp.Do(ctx, chromedp.Click(`button.act[data-action="stop"][data-service="redis"]`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("`+row+`redis .state")?.textContent.startsWith("exited") && window.notReloaded === true`)); err != nil {
		activity, _ := chromedp.Run(ctx, chromedp.Text("#activity-lines"))
		t.Fatalf("the page did not show redis stopped without a reload: %v\n%s", err, activity)
	}
	t.Logf("figure: stop clicked → page shows redis exited in %v", time.Since(clicked).Round(time.Millisecond))
	if r := h.must("ps", "--format", "json", "redis"); strings.Contains(r.stdout, `"State":"running"`) {
		t.Fatalf("redis still runs: %s", r.stdout)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("activity-lines").textContent.includes("devenv -p sertantai-enforcement stop redis: done")`)); err != nil {
		activity, _ := chromedp.Run(ctx, chromedp.Text("#activity-lines"))
		connects, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.connects + " " + document.getElementById("live").textContent`))
		t.Errorf("the action's events: %q (connects: %s)\n%s", activity, connects, h.run("proxy", "logs").stdout)
	}

	// Logs of the backend stream in; the filter goes into the URL and
	// survives a reload.
	if err := chromedp.Do(ctx, chromedp.Click(`a.logs-link[data-logs="sertantai-enforcement/backend"]`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("log-lines").textContent.includes("stand-in")`)); err != nil {
		lines, _ := chromedp.Run(ctx, chromedp.Text("#log-lines"))
		t.Fatalf("no backend log lines: %v (%q)", err, lines)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#log-filter", "stand-in")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("log-filter").value === "stand-in" && document.getElementById("log-source").value === "sertantai-enforcement/backend" && document.getElementById("log-lines").textContent.includes("stand-in")`)); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("the filter did not survive a reload: %v (%s)", err, loc)
	}
	// From the page itself, an action without the token is 403 too.
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/api/actions", {method: "POST", body: "{\"project\":\"sertantai-enforcement\",\"action\":\"down\"}"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || code != http.StatusForbidden {
		t.Errorf("a POST from the page without the token: %d %v", code, err)
	}
	// And start it again from the page.
	if err := chromedp.Do(ctx, chromedp.Click(`button.act[data-action="start"][data-service="redis"]`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("`+row+`redis .state")?.textContent.startsWith("running")`)); err != nil {
		t.Fatalf("redis did not start again: %v", err)
	}
	// An engine event shows on the page without anything asked: electric
	// killed behind devenv's back stays on the page, crashed, with its
	// exit code and last lines.
	killed := time.Now()
	if _, err := c.ContainerKill(ctx, "ehs_dev_electric", client.ContainerKillOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("`+row+`electric .state")?.textContent.startsWith("exited") && document.querySelector("`+row+`electric .exit")?.textContent === "137"`, chromedp.WithPollingInterval(5*time.Millisecond))); err != nil {
		t.Fatalf("the page did not follow electric's death: %v", err)
	}
	t.Logf("figure: engine event (kill) → page shows it in %v", time.Since(killed).Round(time.Millisecond))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("`+row+`electric + tr.tail pre")?.textContent.length > 0`)); err != nil {
		t.Errorf("the crashed electric shows no last lines: %v", err)
	}
	// Resource use comes with the first sample (stats of the containers,
	// /proc of the host services).
	for _, svc := range []string{"postgres", "backend"} {
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`/\d/.test(document.querySelector("`+row+svc+` .cpu")?.textContent) && /iB/.test(document.querySelector("`+row+svc+` .mem")?.textContent)`)); err != nil {
			cpu, _ := chromedp.Run(ctx, chromedp.Text(row+svc+" .cpu"))
			t.Errorf("%s's CPU is %q: %v", svc, cpu, err)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_DOCS") != "" {
		os.WriteFile(filepath.Join(testbed.Root(), "docs", "dashboard.png"), shot, 0o644)
	}

	if rss := processRSS(st.PID); rss != "" {
		t.Logf("figure: the proxy serving the dashboard: %s resident", rss)
	}
}

// processRSS is a process's resident memory as /proc says it ("" where
// it cannot tell).
func processRSS(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
