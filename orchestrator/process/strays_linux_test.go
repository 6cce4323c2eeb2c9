package process

import (
	"os"
	"strings"
	"testing"
	"time"
)

// A child that daemonises (setsid, as pg_ctl or redis-server --daemonize
// do) leaves the process group, but not the supervisor, its subreaper:
// stop finds it and stops it too.
func TestStopStopsADaemonisedChild(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	spec := sh(t, d, "daemonising", "setsid sh -c 'echo daemon $$; exec sleep 60' & while true; do sleep 1; done")
	spec.Grace = 2 * time.Second
	if _, _, err := d.Start(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	var daemon int
	waitFor(t, "the daemon's pid", func() bool {
		b, _ := os.ReadFile(d.LogPath("p", "daemonising"))
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "daemon" {
				daemon = atoi(f[1])
			}
		}
		return daemon > 0 && alive(daemon)
	})
	if Group(daemon) == Group(os.Getpid()) || Group(daemon) == 0 {
		t.Fatalf("the daemon did not leave the group (pgid %d)", Group(daemon))
	}
	if _, err := d.Stop(t.Context(), "p", "daemonising", spec.Grace, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the daemon stopped with its service", func() bool { return !alive(daemon) })
}

// Usage sums the service's process group from /proc.
func TestUsageOfAServiceGroup(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	spec := sh(t, d, "busy", "sleep 60 & while true; do sleep 1; done")
	if _, _, err := d.Start(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(t.Context(), "p", "busy", time.Second, "") })
	waitFor(t, "two processes in the group", func() bool { return len(d.Processes("p", "busy")) >= 2 })
	if _, rss, ok := d.Usage("p", "busy"); !ok || rss == 0 {
		t.Fatalf("usage: rss %d ok %v", rss, ok)
	}
	if _, _, ok := d.Usage("p", "none"); ok {
		t.Fatal("a service that does not run has a usage")
	}
}
