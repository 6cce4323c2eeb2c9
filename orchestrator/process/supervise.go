package process

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxFailures is how many restarts in a row a crashing service gets.
const maxFailures = 5

// Supervise is the supervisor's main: run the spec's command in its own
// process group, log its output, restart it by policy, stop it on SIGTERM.
// It returns the supervisor's exit code.
func Supervise(specPath string) int {
	detach()
	base := specPath[:len(specPath)-len(".spec.json")]
	statePath := base + ".state.json"
	st := State{SupervisorPID: os.Getpid(), SupervisorStart: startTime(os.Getpid())}
	fail := func(err error) int {
		// Recorded, so the devenv waiting for this supervisor says why.
		st.Status, st.Error = "failed", err.Error()
		_ = writeJSON(statePath, st)
		return 2
	}
	var spec Spec
	if err := readJSON(specPath, &spec); err != nil {
		return fail(err)
	}
	st.Hash, st.Grace, st.Signal, st.ProjectDir = spec.Hash, spec.Grace, spec.Signal, spec.ProjectDir
	logf, err := openLog(base+".log", maxLog)
	if err != nil {
		return fail(fmt.Errorf("log file: %w", err))
	}
	defer logf.Close()
	// One pipe for the supervisor's life: the service's output, across
	// restarts, reaches the log through it.
	out, logged, err := logPipe(logf)
	if err != nil {
		return fail(fmt.Errorf("log pipe: %w", err))
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if err := becomeSubreaper(); err != nil {
		fmt.Fprintf(logf, "[devenv] %s cannot adopt daemonised children (%v); one that leaves the process group outlives stop\n", time.Now().Format(time.RFC3339), err)
	}
	s := &supervisor{spec: spec, statePath: statePath, log: logf, out: out, sigs: sigs, st: st}
	s.spec.Env = mergeEnv(os.Environ(), spec.Env)
	// Recorded before the service starts, so anything it starts is known
	// as the project's (its session) from its first moment.
	s.st.Status = "starting"
	s.save()
	go s.reapAdopted()
	code := s.run()
	// The service's last lines reach the log before the supervisor goes.
	out.Close()
	select {
	case <-logged:
	case <-time.After(time.Second): // a stray still holds the pipe
	}
	return code
}

// mergeEnv is base with over's keys replacing base's, without the
// supervisor's own variable.
func mergeEnv(base, over []string) []string {
	keys := map[string]bool{SuperviseEnv: true}
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	var out []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !keys[k] {
			out = append(out, kv)
		}
	}
	return append(out, over...)
}

type supervisor struct {
	spec      Spec
	statePath string
	// log is the service's log file; out is the pipe the service writes
	// its output to (see logFile).
	log  *logFile
	out  *os.File
	sigs chan os.Signal
	st   State
	// child is the service's own process now; reapMu orders its start
	// and recording against the reaper.
	child  atomic.Int64
	reapMu sync.Mutex
}

func (s *supervisor) save() { _ = writeJSON(s.statePath, s.st) }

func (s *supervisor) logf(format string, a ...any) {
	fmt.Fprintf(s.log, "[devenv] %s "+format+"\n", append([]any{time.Now().Format(time.RFC3339)}, a...)...)
}

func (s *supervisor) run() int {
	failures := 0
	for {
		started := time.Now()
		// Started and recorded under reapMu, so the reaper never takes
		// the service's own exit status (it may exit at once).
		s.reapMu.Lock()
		done, pid, err := startChild(s.spec, s.out)
		if err == nil {
			s.child.Store(int64(pid))
		}
		s.reapMu.Unlock()
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
			// What it started in its group goes with it, so nothing holds
			// its port when it restarts and nothing outlives it.
			s.endGroup(pid)
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
	s.endGroup(pid)
	s.st.Status = "stopped"
	s.save()
	s.logf("stopped")
}

// endGroup stops what is left of the group after its leader exited: the
// stop signal, a short wait, then SIGKILL.
func (s *supervisor) endGroup(pid int) {
	if !groupExists(pid) {
		s.endStrays()
		return
	}
	sig := s.spec.Signal
	if sig == "" {
		sig = "SIGTERM"
	}
	_ = signalGroup(pid, sig)
	deadline := time.Now().Add(min(s.spec.Grace, 2*time.Second))
	for groupExists(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	_ = signalGroup(pid, "SIGKILL")
	s.endStrays()
}

// endStrays stops the descendants that left the service's process group
// (daemonised) and were adopted by the supervisor: the stop signal, a
// short wait, then SIGKILL, until none is left.
func (s *supervisor) endStrays() {
	sig := s.spec.Signal
	if sig == "" {
		sig = "SIGTERM"
	}
	deadline := time.Now().Add(min(s.spec.Grace, 2*time.Second))
	for round := 0; ; round++ {
		live := 0
		for pid, zombie := range children(os.Getpid()) {
			if zombie {
				reap(pid)
				continue
			}
			live++
			if round == 0 {
				s.logf("stopping pid %d, which left the service's process group", pid)
				_ = signalPID(pid, sig)
			} else if time.Now().After(deadline) {
				_ = signalPID(pid, "SIGKILL")
			}
		}
		if live == 0 || round > 500 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reapAdopted collects adopted descendants that exit while the service
// runs, so none stays a zombie; the service's own process is left to its
// Wait.
func (s *supervisor) reapAdopted() {
	for range time.Tick(time.Second) {
		s.reapMu.Lock()
		for pid, zombie := range children(os.Getpid()) {
			if zombie && pid != int(s.child.Load()) {
				reap(pid)
			}
		}
		s.reapMu.Unlock()
	}
}
