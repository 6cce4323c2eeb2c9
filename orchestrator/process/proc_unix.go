//go:build unix

package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/sys/unix"
)

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
}

// spawnSupervisor re-executes this binary, detached in its own session, as
// the supervisor of specPath; exited closes when it ends while this
// process still runs.
func spawnSupervisor(specPath string) (int, <-chan struct{}, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), SuperviseEnv+"="+specPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	exited := make(chan struct{})
	// Reap it if it ends while this process lives (tests run devenv
	// in-process), so its pid is never a zombie that looks alive.
	go func() { _ = cmd.Wait(); close(exited) }()
	return cmd.Process.Pid, exited, nil
}

// detach cuts the supervisor loose from where devenv ran: the root as
// working directory, and no descriptor devenv inherited (a make jobserver)
// passed on to the service.
func detach() {
	_ = os.Chdir("/")
	for fd := 3; fd < 1024; fd++ {
		syscall.CloseOnExec(fd)
	}
}

// startChild starts the command in its own process group, writing to log
// directly; done receives its exit code when the process itself exits.
func startChild(spec Spec, log *os.File) (<-chan int, int, error) {
	cmd := exec.Command(spec.Args[0], spec.Args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = spec.Dir, spec.Env, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	done := make(chan int, 1)
	go func() {
		err := cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
			if code < 0 {
				code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
			}
		} else if err != nil {
			code = 1
		}
		done <- code
	}()
	return done, cmd.Process.Pid, nil
}

// sameProcess says pid runs and is the process that started at start.
func sameProcess(pid int, start string) bool {
	if pid <= 0 || start == "" {
		return false
	}
	return startTime(pid) == start
}

func signalPID(pid int, name string) error {
	sig, err := signalNum(name)
	if err != nil {
		return err
	}
	err = syscall.Kill(pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrNotExist
	}
	return err
}

// signalNum is a signal by name (SIGTERM) or number.
func signalNum(name string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(name); err == nil && n > 0 {
		return syscall.Signal(n), nil
	}
	if s := unix.SignalNum(name); s != 0 {
		return s, nil
	}
	return 0, fmt.Errorf("unknown signal %s", name)
}

// signalGroup signals the process group pid leads.
func signalGroup(pid int, name string) error {
	sig, err := signalNum(name)
	if err != nil {
		return err
	}
	err = syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// groupExists says the process group led by pid has members.
func groupExists(pid int) bool { return syscall.Kill(-pid, 0) == nil }

// groupAlive says members of the group devenv started (leader pid,
// started at start) remain: the leader itself, or, once it is gone,
// members of its group while no other process has taken its pid.
func groupAlive(pid int, start string) bool {
	if pid <= 0 || start == "" {
		return false
	}
	if now := startTime(pid); now != "" {
		return now == start
	}
	return groupExists(pid)
}

// stopGroup stops a group whose supervisor is gone: signal, grace, SIGKILL.
func stopGroup(ctx context.Context, pid int, sig string, grace time.Duration) (bool, error) {
	if sig == "" {
		sig = "SIGTERM"
	}
	if err := signalGroup(pid, sig); err != nil {
		return false, err
	}
	deadline := time.Now().Add(grace)
	for groupExists(pid) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	killed := groupExists(pid)
	_ = signalGroup(pid, "SIGKILL")
	return killed, nil
}

// lock takes an exclusive lock on path, waiting with ctx.
func lock(ctx context.Context, path string) (func(), error) {
	l := flock.New(path)
	lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ok, err := l.TryLockContext(lctx, 20*time.Millisecond)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil || !ok {
		return nil, errors.Join(errors.New("another devenv has been starting or stopping this host service for 2 minutes"), err)
	}
	return func() { _ = l.Unlock() }, nil
}

// Group is the process group of pid; 0 if unknown.
func Group(pid int) int {
	g, err := syscall.Getpgid(pid)
	if err != nil {
		return 0
	}
	return g
}

// Session is the session of pid; 0 if unknown.
func Session(pid int) int {
	s, err := unix.Getsid(pid)
	if err != nil {
		return 0
	}
	return s
}
