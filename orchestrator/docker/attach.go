package docker

import (
	"context"
	"io"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// ExecAttached runs spec.Cmd in the running container id, attached to s,
// and returns the command's exit code.
func (e *Engine) ExecAttached(ctx context.Context, id string, spec orchestrator.ExecSpec, s orchestrator.Streams) (int, error) {
	size := consoleSize(s)
	cr, err := e.cli.ExecCreate(ctx, id, client.ExecCreateOptions{
		Cmd: spec.Cmd, Env: spec.Env, User: spec.User, WorkingDir: spec.WorkingDir, Privileged: spec.Privileged,
		TTY: s.Tty, ConsoleSize: size, AttachStdin: s.Stdin != nil, AttachStdout: s.Stdout != nil, AttachStderr: s.Stdout != nil,
	})
	if err != nil {
		return 0, e.wrap(err)
	}
	if s.Stdout == nil {
		// Detached (exec -d): started, not waited for.
		_, err := e.cli.ExecStart(ctx, cr.ID, client.ExecStartOptions{Detach: true})
		return 0, e.wrap(err)
	}
	att, err := e.cli.ExecAttach(ctx, cr.ID, client.ExecAttachOptions{TTY: s.Tty, ConsoleSize: size})
	if err != nil {
		return 0, e.wrap(err)
	}
	defer att.Close()
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go e.resize(rctx, s, func(sz orchestrator.TermSize) {
		_, _ = e.cli.ExecResize(rctx, cr.ID, client.ExecResizeOptions{Width: sz.Width, Height: sz.Height})
	})
	if err := pump(ctx, att.HijackedResponse, s); err != nil {
		return 0, err
	}
	ins, err := e.cli.ExecInspect(ctx, cr.ID, client.ExecInspectOptions{})
	if err != nil {
		return 0, e.wrap(err)
	}
	return ins.ExitCode, nil
}

// StartAttached attaches s to the created container id, starts it, and
// returns its exit code once it has exited (or, for an auto-removed one,
// once the engine has removed it).
func (e *Engine) StartAttached(ctx context.Context, id string, s orchestrator.Streams) (int, error) {
	att, err := e.cli.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdin: s.Stdin != nil, Stdout: true, Stderr: true})
	if err != nil {
		return 0, e.wrap(err)
	}
	defer att.Close()
	// A container the engine removes when it exits is waited for before it
	// starts, so its exit code is not lost with it.
	var removed client.ContainerWaitResult
	ins, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return 0, e.wrap(err)
	}
	autoRemove := ins.Container.HostConfig != nil && ins.Container.HostConfig.AutoRemove
	wctx, stopWait := context.WithCancel(ctx)
	defer stopWait()
	if autoRemove {
		removed = e.cli.ContainerWait(wctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionRemoved})
	}
	if err := e.Start(ctx, id); err != nil {
		return 0, err
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	if s.Tty {
		first := s.Size
		if first.Width > 0 {
			_, _ = e.cli.ContainerResize(ctx, id, client.ContainerResizeOptions{Width: first.Width, Height: first.Height})
		}
		go e.resize(rctx, s, func(sz orchestrator.TermSize) {
			_, _ = e.cli.ContainerResize(rctx, id, client.ContainerResizeOptions{Width: sz.Width, Height: sz.Height})
		})
	}
	if err := pump(ctx, att.HijackedResponse, s); err != nil {
		return 0, err
	}
	if !autoRemove {
		return e.Wait(ctx, id)
	}
	select {
	case r := <-removed.Result:
		return int(r.StatusCode), nil
	case err := <-removed.Error:
		return 0, e.wrap(err)
	}
}

// resize passes the terminal's new sizes on until ctx ends.
func (e *Engine) resize(ctx context.Context, s orchestrator.Streams, apply func(orchestrator.TermSize)) {
	if !s.Tty || s.Resize == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case sz, ok := <-s.Resize:
			if !ok {
				return
			}
			apply(sz)
		}
	}
}

func consoleSize(s orchestrator.Streams) client.ConsoleSize {
	if !s.Tty || s.Size.Width == 0 {
		return client.ConsoleSize{}
	}
	return client.ConsoleSize{Height: s.Size.Height, Width: s.Size.Width}
}

// pump copies stdin to the connection (closing its write side at the end
// of input, so the command sees EOF) and the output to s until the command
// closes it; ctx ending stops it.
func pump(ctx context.Context, att client.HijackedResponse, s orchestrator.Streams) error {
	if s.Stdin != nil {
		go func() {
			_, _ = io.Copy(att.Conn, s.Stdin)
			_ = att.CloseWrite()
		}()
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if s.Tty {
			_, err = io.Copy(s.Stdout, att.Reader)
		} else {
			_, err = stdcopy.StdCopy(s.Stdout, s.Stderr, att.Reader)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		att.Close()
		return ctx.Err()
	}
}
