package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devenv-dev/devenv/dashboard"
)

// The dashboard's figures, logged (speed targets live in benchmarks, not
// here): first paint in chromium of a machine of 10 projects and 50
// services (the fake engine), the time to take the picture, and the
// server's heap after serving it.
func TestDashboardFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chromium")
	}
	chromium := needBrowser(t)
	f := newFakeCLI(t, goldenFile)
	for i := range 10 {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("p%d", i))
		os.MkdirAll(dir, 0o755)
		file := fmt.Sprintf("name: figures-%d\nservices:\n", i)
		for j := range 5 {
			file += fmt.Sprintf("  s%d:\n    image: redis:7\n    ports: [\"%d:6379\"]\n", j, 47000+i*10+j)
		}
		os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte(file), 0o644)
		g := *f
		g.dir = dir
		g.must("up")
	}
	ts, srv := uiServer(t, f, false)
	start := time.Now()
	m, err := srv.Source.Machine(t.Context())
	if err != nil || len(m.Projects) != 10 {
		t.Fatalf("machine: %v (%d projects)", err, len(m.Projects))
	}
	t.Logf("figure: the picture of 10 projects and 50 services taken in %v", time.Since(start).Round(time.Millisecond))

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	defer cancelTimeout()
	code, err := dashboard.IssueCode(srv.CodeDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/login?code="+code)); err != nil {
		t.Fatal(err)
	}
	paint, err := chromedp.Run(ctx, chromedp.Poll[float64](`(performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime`))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr[id^=svc-]").length`))
	if rows != 50 {
		t.Fatalf("the page shows %d services, want 50", rows)
	}
	t.Logf("figure: first contentful paint of 10 projects and 50 services: %.0f ms", paint)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("figure: heap in use after serving it (test process, fake engine): %.1f MiB", float64(ms.HeapInuse)/(1<<20))
}
