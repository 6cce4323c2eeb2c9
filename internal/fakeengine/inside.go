package fakeengine

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator/engine"
)

func (f *Engine) Events(ctx context.Context, _ []string, _, _ string) (<-chan engine.EngineEvent, <-chan error) {
	out := make(chan engine.EngineEvent)
	go func() { <-ctx.Done(); close(out) }()
	return out, make(chan error)
}

func (f *Engine) CopyFrom(context.Context, string, string) (io.ReadCloser, engine.PathInfo, error) {
	return nil, engine.PathInfo{}, fmt.Errorf("copy: %w", engine.ErrNotFound)
}

func (f *Engine) CopyTo(context.Context, string, string, io.Reader, bool) error { return nil }

func (f *Engine) StatPath(context.Context, string, string) (engine.PathInfo, error) {
	return engine.PathInfo{}, engine.ErrNotFound
}

func (f *Engine) Stats(_ context.Context, id string) (engine.Stats, error) {
	return engine.Stats{CPUPercent: 1.5, MemUsage: 1 << 20, MemLimit: 1 << 30, PIDs: 3}, nil
}

func (f *Engine) Top(_ context.Context, id string) ([]string, [][]string, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return nil, nil, err
	}
	return []string{"PID", "CMD"}, [][]string{{"1", c.Name}}, nil
}

func (f *Engine) Exec(_ context.Context, id string, cmd []string) (engine.ExecResult, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return engine.ExecResult{}, err
	}
	c.HealthCmds++
	if f.Healthy == nil || f.Healthy(c.Name) {
		c.Health = "healthy"
		return engine.ExecResult{ExitCode: 0}, nil
	}
	return engine.ExecResult{ExitCode: 1, Output: "not ready"}, nil
}

func (f *Engine) Logs(_ context.Context, id string, _ engine.LogOptions, stdout, _ io.Writer) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "log line of %s\n", c.Name)
	return err
}

func (f *Engine) ExecAttached(_ context.Context, id string, spec engine.ExecSpec, s engine.Streams) (int, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return 0, err
	}
	f.record("exec %s %s", c.Name, strings.Join(spec.Cmd, " "))
	return 0, nil
}

func (f *Engine) StartAttached(ctx context.Context, id string, s engine.Streams) (int, error) {
	if err := f.Start(ctx, id); err != nil {
		return 0, err
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return 0, err
	}
	c.State = "exited"
	return 0, nil
}
