package main

import (
	"context"
	"runtime"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/process"
)

// hostRunner adapts orchestrator/process to the core's HostRunner.
type hostRunner struct{ dir process.Dir }

// hostRunnerFor is the runner under devenv's state directory; nil where
// processes cannot be verified by their start time (not Linux or macOS),
// so host services with a command are a configuration error there.
func hostRunnerFor(getenv func(string) string) orchestrator.HostRunner {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		return nil
	}
	d, err := process.StateDir(getenv)
	if err != nil {
		return nil
	}
	return hostRunner{dir: d}
}

func toHostState(st process.State) orchestrator.HostState {
	return orchestrator.HostState{PID: st.PID, ProjectDir: st.ProjectDir, Hash: st.Hash, Status: st.Status, StartedAt: st.StartedAt,
		Restarts: st.Restarts, ExitCode: st.ExitCode, Running: st.Running(), Error: st.Error}
}

func (h hostRunner) Start(ctx context.Context, s orchestrator.HostSpec) (orchestrator.HostState, bool, error) {
	st, kept, err := h.dir.Start(ctx, process.Spec{Project: s.Project, ProjectDir: s.ProjectDir, Name: s.Name, Args: s.Args, Dir: s.Dir, Env: s.Env,
		Restart: s.Restart, Signal: s.Signal, Grace: s.Grace, Hash: s.Hash})
	return toHostState(st), kept, err
}

func (h hostRunner) Stop(ctx context.Context, project, name string, grace time.Duration, signal string) (bool, error) {
	return h.dir.Stop(ctx, project, name, grace, signal)
}

func (h hostRunner) Status(project, name string) (orchestrator.HostState, bool) {
	st, ok := h.dir.Read(project, name)
	return toHostState(st), ok
}

func (h hostRunner) Names(project string) []string       { return h.dir.Names(project) }
func (h hostRunner) LogPath(project, name string) string { return h.dir.LogPath(project, name) }
func (h hostRunner) Processes(project, name string) [][]string {
	return h.dir.Processes(project, name)
}

func (h hostRunner) Signal(project, name, signal string) error {
	return h.dir.Signal(project, name, signal)
}

func (h hostRunner) Owns(project string, pid int) (string, bool) { return h.dir.Owns(project, pid) }
