package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SuperviseEnv names the spec file when devenv runs as a supervisor.
const SuperviseEnv = "DEVENV_SUPERVISE"

// ErrUnsupported is returned where host processes cannot be run (Windows).
var ErrUnsupported = errors.New("running host services is not supported on this system")

// Spec is one host service to run.
type Spec struct {
	Project string `json:"project"`
	// ProjectDir is the project's directory, recorded in the state so that
	// a same-named project elsewhere is told apart.
	ProjectDir string   `json:"project_dir,omitempty"`
	Name       string   `json:"name"`
	Args       []string `json:"args"` // exec'd as is (a shell command is ["/bin/sh","-c",…])
	Dir        string   `json:"dir"`
	// Env is the service's own environment (PORT, its env:), added to the
	// environment the supervisor inherits; nothing else is written to disk.
	Env     []string      `json:"env"`
	Restart string        `json:"restart"` // no, on-failure, always
	Signal  string        `json:"signal"`  // stop signal name, default SIGTERM
	Grace   time.Duration `json:"grace"`
	// Hash identifies command, env and dir: a running service with another
	// hash is restarted.
	Hash string `json:"hash"`
}

// State is what the supervisor records.
type State struct {
	// Grace and Signal are the stop settings the running supervisor uses.
	Grace           time.Duration `json:"grace"`
	Signal          string        `json:"signal,omitempty"`
	ProjectDir      string        `json:"project_dir,omitempty"`
	SupervisorPID   int           `json:"supervisor_pid"`
	SupervisorStart string        `json:"supervisor_start"`
	PID             int           `json:"pid"`
	Start           string        `json:"start"` // the child's start time, as the OS says
	Hash            string        `json:"hash"`
	Status          string        `json:"status"` // running, restarting, exited, failed, stopped
	StartedAt       time.Time     `json:"started_at"`
	Restarts        int           `json:"restarts"`
	ExitCode        int           `json:"exit_code"`
	Killed          bool          `json:"killed,omitempty"`
	Error           string        `json:"error,omitempty"`
}

// Dir is where a project's state and logs live.
type Dir struct{ Root string }

// StateDir is $XDG_STATE_HOME/devenv, else ~/.local/state/devenv.
func StateDir(getenv func(string) string) (Dir, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return Dir{Root: filepath.Join(d, "devenv")}, nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return Dir{}, fmt.Errorf("state directory: %w", err)
		}
	}
	return Dir{Root: filepath.Join(home, ".local", "state", "devenv")}, nil
}

func (d Dir) project(project string) string { return filepath.Join(d.Root, project) }

// LogPath is the service's log file.
func (d Dir) LogPath(project, name string) string {
	return filepath.Join(d.project(project), name+".log")
}

func (d Dir) statePath(project, name string) string {
	return filepath.Join(d.project(project), name+".state.json")
}

func (d Dir) specPath(project, name string) string {
	return filepath.Join(d.project(project), name+".spec.json")
}

// Names lists the host services with state in project's directory.
func (d Dir) Names(project string) []string {
	entries, _ := os.ReadDir(d.project(project))
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".state.json"); ok {
			out = append(out, n)
		}
	}
	return out
}

// ensure makes the project directory, private, refusing a symlink.
func (d Dir) ensure(project string) (string, error) {
	dir := d.project(project)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("state directory %s is not a directory (a symlink?); devenv does not write through links", dir)
	}
	return dir, nil
}

// writeJSON replaces path atomically with v, 0600, never through a link.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Read returns the recorded state of a service, and whether its supervisor
// (or, without one, its process) is verifiably alive.
func (d Dir) Read(project, name string) (State, bool) {
	var st State
	if err := readJSON(d.statePath(project, name), &st); err != nil {
		return State{}, false
	}
	return st, st.alive()
}

func (st State) alive() bool {
	return sameProcess(st.SupervisorPID, st.SupervisorStart) || sameProcess(st.PID, st.Start)
}

// Running says whether the child itself is verifiably alive.
func (st State) Running() bool { return sameProcess(st.PID, st.Start) }

// Start runs spec under a detached supervisor, unless it runs already with
// the same hash (kept is true then). A running service with another hash is
// stopped first. A lock per service keeps two devenv processes from
// starting it twice.
func (d Dir) Start(ctx context.Context, spec Spec) (st State, kept bool, err error) {
	if _, err := d.ensure(spec.Project); err != nil {
		return State{}, false, err
	}
	unlock, err := lock(ctx, d.statePath(spec.Project, spec.Name)+".lock")
	if err != nil {
		return State{}, false, err
	}
	defer unlock()
	if cur, ok := d.Read(spec.Project, spec.Name); ok {
		if cur.Hash == spec.Hash && cur.Status != "failed" && cur.Status != "exited" {
			return cur, true, nil
		}
		if _, err := d.stop(ctx, spec.Project, spec.Name, cur, spec.Grace, spec.Signal); err != nil {
			return State{}, false, err
		}
	}
	_ = os.Remove(d.statePath(spec.Project, spec.Name))
	if err := writeJSON(d.specPath(spec.Project, spec.Name), spec); err != nil {
		return State{}, false, fmt.Errorf("host service %s: %w", spec.Name, err)
	}
	pid, exited, err := spawnSupervisor(d.specPath(spec.Project, spec.Name))
	if err != nil {
		return State{}, false, fmt.Errorf("host service %s: start supervisor: %w", spec.Name, err)
	}
	deadline := time.After(30 * time.Second)
	gone := false
	for {
		var cur State
		if readJSON(d.statePath(spec.Project, spec.Name), &cur) == nil && cur.SupervisorPID == pid && cur.Status != "" && cur.Status != "starting" {
			if cur.Status == "failed" {
				return cur, false, fmt.Errorf("host service %s: %s", spec.Name, cur.Error)
			}
			return cur, false, nil
		}
		if gone {
			return State{}, false, fmt.Errorf("host service %s: its supervisor exited before starting it (see %s)", spec.Name, d.LogPath(spec.Project, spec.Name))
		}
		select {
		case <-ctx.Done():
			return State{}, false, ctx.Err()
		case <-exited:
			gone = true // look at the state once more: it may have finished
		case <-deadline:
			return State{}, false, fmt.Errorf("host service %s: its supervisor did not start it within 30s", spec.Name)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Stop ends a service's whole process group: its stop signal, then SIGKILL
// after grace. killed says SIGKILL was needed. A service that is not
// running is no error; its stale state is removed.
func (d Dir) Stop(ctx context.Context, project, name string, grace time.Duration, signal string) (killed bool, err error) {
	unlock, err := lock(ctx, d.statePath(project, name)+".lock")
	if err != nil {
		return false, err
	}
	defer unlock()
	st, _ := d.Read(project, name)
	return d.stop(ctx, project, name, st, grace, signal)
}

func (d Dir) stop(ctx context.Context, project, name string, st State, grace time.Duration, signal string) (bool, error) {
	killed := false
	if sameProcess(st.SupervisorPID, st.SupervisorStart) {
		// The supervisor stops the group with its own settings and records
		// whether it had to kill; if it does not finish in time, the group
		// and the supervisor are killed here.
		if err := signalPID(st.SupervisorPID, "SIGTERM"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		deadline := time.Now().Add(max(st.Grace, grace) + 5*time.Second)
		for sameProcess(st.SupervisorPID, st.SupervisorStart) && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		if sameProcess(st.SupervisorPID, st.SupervisorStart) {
			if sameProcess(st.PID, st.Start) {
				_ = signalGroup(st.PID, "SIGKILL")
			}
			_ = signalPID(st.SupervisorPID, "SIGKILL")
			killed = true
		}
		var last State
		if readJSON(d.statePath(project, name), &last) == nil && last.Killed {
			killed = true
		}
	}
	if sameProcess(st.PID, st.Start) || groupAlive(st.PID, st.Start) {
		// No supervisor (it was killed), or members of the group outlived
		// it: stop the group here.
		if signal == "" {
			signal = st.Signal
		}
		k, err := stopGroup(ctx, st.PID, signal, max(st.Grace, grace))
		if err != nil {
			return killed, err
		}
		killed = killed || k
	}
	for _, path := range []string{d.statePath(project, name), d.specPath(project, name)} {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return killed, err
		}
	}
	return killed, nil
}

// Owns says which of project's host services pid belongs to, if any: it
// runs in the session of a live supervisor of the project (which holds it
// from before the service starts), or in the process group of a live
// service.
func (d Dir) Owns(project string, pid int) (string, bool) {
	sid, pgid := Session(pid), Group(pid)
	for _, name := range d.Names(project) {
		st, ok := d.Read(project, name)
		if !ok {
			continue
		}
		if sid > 0 && sid == st.SupervisorPID && sameProcess(st.SupervisorPID, st.SupervisorStart) {
			return name, true
		}
		if pgid > 0 && pgid == st.PID && st.Running() {
			return name, true
		}
	}
	return "", false
}

// Signal sends signal to the service's process group, once its leader is
// verified to be the process devenv started.
func (d Dir) Signal(project, name, signal string) error {
	st, _ := d.Read(project, name)
	if !st.Running() {
		return fmt.Errorf("host service %s is not running", name)
	}
	return signalGroup(st.PID, signal)
}

// Tail is the last n lines of a log file ("" when it cannot be read).
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
