package process

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// maxFailures is how many restarts in a row a crashing service gets.
const maxFailures = 5

// Supervise is the supervisor's main: run the spec's command in its own
// process group, log its output, restart it by policy, stop it on SIGTERM.
// It returns the supervisor's exit code.
func Supervise(specPath string) int {
	var spec Spec
	if err := readJSON(specPath, &spec); err != nil {
		fmt.Fprintln(os.Stderr, "devenv supervisor:", err)
		return 2
	}
	statePath := specPath[:len(specPath)-len(".spec.json")] + ".state.json"
	logw, err := openLog(specPath[:len(specPath)-len(".spec.json")] + ".log")
	if err != nil {
		fmt.Fprintln(os.Stderr, "devenv supervisor:", err)
		return 2
	}
	defer logw.Close()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	s := &supervisor{spec: spec, statePath: statePath, log: logw, sigs: sigs}
	s.st = State{SupervisorPID: os.Getpid(), SupervisorStart: startTime(os.Getpid()), Hash: spec.Hash}
	return s.run()
}

type supervisor struct {
	spec      Spec
	statePath string
	log       *rotatingLog
	sigs      chan os.Signal
	st        State
}

func (s *supervisor) save() { _ = writeJSON(s.statePath, s.st) }

func (s *supervisor) logf(format string, a ...any) {
	fmt.Fprintf(s.log, "[devenv] %s "+format+"\n", append([]any{time.Now().Format(time.RFC3339)}, a...)...)
}

func (s *supervisor) run() int {
	failures := 0
	for {
		started := time.Now()
		done, pid, err := startChild(s.spec, s.log)
		if err != nil {
			s.logf("cannot start %v: %v", s.spec.Args, err)
			s.st.Status, s.st.Error = "failed", err.Error()
			s.save()
			return 1
		}
		s.st.PID, s.st.Start, s.st.StartedAt, s.st.Status, s.st.Error = pid, startTime(pid), started, "running", ""
		s.save()
		s.logf("started pid %d: %v", pid, s.spec.Args)
		select {
		case <-s.sigs:
			s.stopChild(pid, done)
			return 0
		case code := <-done:
			s.st.ExitCode = code
			s.logf("pid %d exited with code %d", pid, code)
			if !s.restarts(code) {
				s.st.Status = "exited"
				s.save()
				return 0
			}
		}
		if time.Since(started) > 10*time.Second {
			failures = 0
		}
		failures++
		if failures > maxFailures {
			s.logf("gave up after %d restarts in a row", maxFailures)
			s.st.Status, s.st.Error = "failed", fmt.Sprintf("exited with code %d and was restarted %d times in a row", s.st.ExitCode, maxFailures)
			s.save()
			return 1
		}
		backoff := min(time.Duration(1<<(failures-1))*250*time.Millisecond, 10*time.Second)
		s.st.Status, s.st.Restarts = "restarting", s.st.Restarts+1
		s.save()
		s.logf("restarting in %s (%d of %d)", backoff, failures, maxFailures)
		select {
		case <-s.sigs:
			s.st.Status = "stopped"
			s.save()
			return 0
		case <-time.After(backoff):
		}
	}
}

func (s *supervisor) restarts(code int) bool {
	switch s.spec.Restart {
	case "always":
		return true
	case "on-failure":
		return code != 0
	}
	return false
}

// stopChild sends the stop signal to the child's group, waits the grace
// period, then SIGKILLs the group; stragglers of the group go too.
func (s *supervisor) stopChild(pid int, done <-chan int) {
	sig := s.spec.Signal
	if sig == "" {
		sig = "SIGTERM"
	}
	_ = signalGroup(pid, sig)
	select {
	case <-done:
	case <-time.After(s.spec.Grace):
		s.logf("pid %d did not stop within %s; sending SIGKILL", pid, s.spec.Grace)
		s.st.Killed = true
		_ = signalGroup(pid, "SIGKILL")
		<-done
	}
	// Whatever else of the group is left (a forked child) goes too.
	_ = signalGroup(pid, "SIGKILL")
	s.st.Status = "stopped"
	s.save()
	s.logf("stopped")
}

// rotatingLog appends to a file, 0600, keeping one rotated copy past
// maxLog bytes.
type rotatingLog struct {
	mu   sync.Mutex
	path string
	f    *os.File
	size int64
}

const maxLog = 10 << 20

func openLog(path string) (*rotatingLog, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	st, _ := f.Stat()
	return &rotatingLog{path: path, f: f, size: st.Size()}, nil
}

func (l *rotatingLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size+int64(len(b)) > maxLog {
		l.f.Close()
		_ = os.Rename(l.path, l.path+".1")
		f, err := openAppend(l.path)
		if err != nil {
			return 0, err
		}
		l.f, l.size = f, 0
	}
	n, err := l.f.Write(b)
	l.size += int64(n)
	return n, err
}

func (l *rotatingLog) Close() error { return l.f.Close() }
