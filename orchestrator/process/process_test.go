//go:build linux

package process

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary be the supervisor, as devenv is.
func TestMain(m *testing.M) {
	if spec := os.Getenv(SuperviseEnv); spec != "" {
		os.Exit(Supervise(spec))
	}
	os.Exit(m.Run())
}

func sh(t *testing.T, d Dir, name, script string) Spec {
	t.Helper()
	return Spec{Project: "p", Name: name, Args: []string{"/bin/sh", "-c", script}, Dir: t.TempDir(),
		Env: []string{"PATH=" + os.Getenv("PATH")}, Grace: 2 * time.Second, Hash: script}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil && startTime(pid) != "" }

func TestStartKeepRestartStop(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	spec := sh(t, d, "web", "echo hello from web; exec sleep 60")
	st, kept, err := d.Start(t.Context(), spec)
	if err != nil || kept || st.Status != "running" || !alive(st.PID) {
		t.Fatalf("start: %+v kept=%v err=%v", st, kept, err)
	}
	waitFor(t, "the log line", func() bool {
		b, _ := os.ReadFile(d.LogPath("p", "web"))
		return strings.Contains(string(b), "hello from web")
	})
	if fi, _ := os.Stat(d.LogPath("p", "web")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("log mode %v", fi.Mode().Perm())
	}
	// Unchanged: kept, same pid.
	st2, kept, err := d.Start(t.Context(), spec)
	if err != nil || !kept || st2.PID != st.PID {
		t.Fatalf("unchanged start: %+v kept=%v err=%v", st2, kept, err)
	}
	// Changed: restarted.
	spec.Hash = "changed"
	st3, kept, err := d.Start(t.Context(), spec)
	if err != nil || kept || st3.PID == st.PID || alive(st.PID) {
		t.Fatalf("changed start: %+v kept=%v err=%v old alive=%v", st3, kept, err, alive(st.PID))
	}
	killed, err := d.Stop(t.Context(), "p", "web", 2*time.Second, "")
	if err != nil || killed || alive(st3.PID) {
		t.Fatalf("stop: killed=%v err=%v alive=%v", killed, err, alive(st3.PID))
	}
	if _, ok := d.Read("p", "web"); ok {
		t.Fatal("state left after stop")
	}
}

func TestStopKillsWhatIgnoresSIGTERMAndTheWholeTree(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	// A parent that ignores SIGTERM with a forked child that does too.
	spec := sh(t, d, "stubborn", "trap '' TERM; sleep 60 & echo child $!; while true; do sleep 1; done")
	spec.Grace = 300 * time.Millisecond
	st, _, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	var child int
	waitFor(t, "the child's pid", func() bool {
		b, _ := os.ReadFile(d.LogPath("p", "stubborn"))
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "child" {
				child = atoi(f[1])
			}
		}
		return child > 0
	})
	killed, err := d.Stop(t.Context(), "p", "stubborn", spec.Grace, "")
	if err != nil || !killed {
		t.Fatalf("stop: killed=%v err=%v", killed, err)
	}
	waitFor(t, "no orphan", func() bool { return !alive(st.PID) && !alive(child) })
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + int(r-'0')
	}
	return n
}

func TestRestartOnFailureWithCap(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	spec := sh(t, d, "crash", "echo crashing; exit 3")
	spec.Restart = "on-failure"
	if _, _, err := d.Start(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the supervisor to give up", func() bool {
		st, _ := d.Read("p", "crash")
		return st.Status == "failed"
	})
	st, _ := d.Read("p", "crash")
	b, _ := os.ReadFile(d.LogPath("p", "crash"))
	if st.Restarts != maxFailures || countLines(string(b), "crashing") != maxFailures+1 || !strings.Contains(st.Error, "restarted 5 times") {
		t.Fatalf("state %+v\nlog:\n%s", st, b)
	}
	// A clean exit is not restarted under on-failure.
	ok := sh(t, d, "once", "echo done")
	ok.Restart = "on-failure"
	if _, _, err := d.Start(t.Context(), ok); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "exit", func() bool { st, _ := d.Read("p", "once"); return st.Status == "exited" })
}

// The supervisor killed (devenv's machine crash-free, but someone kill -9
// it): the next stop still ends the process group.
func TestStopWithoutSupervisor(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	st, _, err := d.Start(t.Context(), sh(t, d, "orphaned", "exec sleep 60"))
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(st.SupervisorPID, syscall.SIGKILL)
	waitFor(t, "the supervisor to die", func() bool { return !alive(st.SupervisorPID) })
	if _, err := d.Stop(context.Background(), "p", "orphaned", time.Second, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child to end", func() bool { return !alive(st.PID) })
}

// A recorded pid that now belongs to another process is never signalled.
func TestStalePidIsNotSignalled(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	os.MkdirAll(filepath.Join(d.Root, "p"), 0o700)
	writeJSON(d.statePath("p", "x"), State{SupervisorPID: os.Getpid(), SupervisorStart: "1", PID: os.Getpid(), Start: "1", Status: "running"})
	if _, ok := d.Read("p", "x"); ok {
		t.Fatal("a reused pid counts as the service")
	}
	if _, err := d.Stop(t.Context(), "p", "x", time.Second, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.statePath("p", "x")); !os.IsNotExist(err) {
		t.Fatal("stale state kept")
	}
}

func countLines(s, line string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if l == line {
			n++
		}
	}
	return n
}

// A background child of the command neither keeps the supervisor from
// seeing the command exit, nor outlives it.
func TestBackgroundChildDoesNotHideExitOrOutlive(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	spec := sh(t, d, "bg", "sleep 60 & echo bgchild $!; sleep 0.2; exit 1")
	spec.Restart = "on-failure"
	if _, _, err := d.Start(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a restart", func() bool { st, _ := d.Read("p", "bg"); return st.Restarts >= 1 })
	b, _ := os.ReadFile(d.LogPath("p", "bg"))
	first := 0
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "bgchild" && first == 0 {
			first = atoi(f[1])
		}
	}
	if first == 0 {
		t.Fatalf("no child pid in the log:\n%s", b)
	}
	waitFor(t, "the first run's background child to be gone", func() bool { return !alive(first) })
	if _, err := d.Stop(t.Context(), "p", "bg", time.Second, ""); err != nil {
		t.Fatal(err)
	}
}

// Stop waits for the supervisor's own grace period, not the caller's.
func TestStopHonoursTheRunningGrace(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	spec := sh(t, d, "slow", "trap 'sleep 1; exit 0' TERM; while true; do sleep 0.1; done")
	spec.Grace = 3 * time.Second
	st, _, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	killed, err := d.Stop(t.Context(), "p", "slow", 0, "")
	if err != nil || killed {
		t.Fatalf("stop: killed=%v err=%v", killed, err)
	}
	if alive(st.PID) || alive(st.SupervisorPID) {
		t.Fatal("stop returned with the service still running")
	}
}

// The supervisor killed: the service's output has no reader left (the
// supervisor writes the log, so rotation loses nothing), so a chatty
// service ends at its next line; a quiet one is ended by stop; either way
// the next start runs it again.
func TestServiceAfterItsSupervisorIsKilled(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	st, _, err := d.Start(t.Context(), sh(t, d, "chatty", "while true; do echo line; sleep 0.05; done"))
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(st.SupervisorPID, syscall.SIGKILL)
	waitFor(t, "the chatty service to end", func() bool { return !alive(st.PID) })
	quiet, _, err := d.Start(t.Context(), sh(t, d, "quiet", "sleep 60"))
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(quiet.SupervisorPID, syscall.SIGKILL)
	if _, err := d.Stop(t.Context(), "p", "quiet", time.Second, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the quiet service to end", func() bool { return !alive(quiet.PID) })
	again, kept, err := d.Start(t.Context(), sh(t, d, "chatty", "while true; do echo line; sleep 0.05; done"))
	if err != nil || kept || !alive(again.PID) {
		t.Fatalf("start after a killed supervisor: kept=%v err=%v", kept, err)
	}
	d.Stop(t.Context(), "p", "chatty", time.Second, "")
}

// A supervisor that cannot start (its log path is a symlink) makes Start
// fail at once instead of waiting forever.
func TestStartFailsWhenTheSupervisorCannot(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	os.MkdirAll(filepath.Join(d.Root, "p"), 0o700)
	os.Symlink("/etc/passwd", d.LogPath("p", "linked"))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, _, err := d.Start(ctx, sh(t, d, "linked", "sleep 60"))
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "log file") {
		t.Fatalf("got %v (ctx %v)", err, ctx.Err())
	}
}
