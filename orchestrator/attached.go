package orchestrator

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// AttachOptions are compose's attached-up flags.
type AttachOptions struct {
	// Services whose output is followed (default: all that up started).
	Services []string
	// AbortOnExit stops everything when a container exits; AbortOnFailure
	// when one exits with a non-zero code. ExitCodeFrom implies AbortOnExit
	// and exits with that service's code.
	AbortOnExit, AbortOnFailure bool
	ExitCodeFrom                string
	Timestamps, NoPrefix        bool
	// Timeout is how long stopping waits before SIGKILL (default: each
	// service's stop_grace_period).
	Timeout *time.Duration
}

type exited struct {
	service string
	code    int
	err     error
}

// Attach is the attached half of compose's up, after the stack is up: it
// follows the services' output until Ctrl-C, or until a container exits
// when asked to abort on that, then stops the services up started and
// returns the exit code compose would (that of the container that caused
// the abort, or of ExitCodeFrom's); when every container has exited by
// itself, 0.
func (o *Orchestrator) Attach(ctx context.Context, p *compose.Project, res *UpResult, opts AttachOptions, out io.Writer) (int, error) {
	var started []string
	for _, s := range res.Plan.Steps {
		switch s.Action {
		case ActCreate, ActRecreate, ActStart, ActKeep, ActRestart:
			if !slices.Contains(started, s.Service) {
				started = append(started, s.Service)
			}
		}
	}
	if opts.ExitCodeFrom != "" {
		if !slices.Contains(started, opts.ExitCodeFrom) {
			return 0, &compose.ConfigError{File: p.MainFile(), Key: "up --exit-code-from",
				Msg: fmt.Sprintf("service %s is not among the services up started (%v)", opts.ExitCodeFrom, started)}
		}
		opts.AbortOnExit = true
	}
	follow := opts.Services
	if len(follow) == 0 {
		follow = started
	}
	cs, err := o.selectContainers(ctx, p, started)
	if err != nil {
		return 0, err
	}
	lctx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	logsDone := make(chan error, 1)
	go func() {
		logsDone <- o.Logs(lctx, p, LogsOptions{Services: follow, Follow: true, Tail: "all", Timestamps: opts.Timestamps, NoPrefix: opts.NoPrefix}, out)
	}()
	wctx, stopWaits := context.WithCancel(ctx)
	defer stopWaits()
	exits := make(chan exited, len(cs))
	waiting := 0
	for _, c := range cs {
		if isLeftover(c) {
			continue
		}
		waiting++
		go func() {
			code, err := o.Engine.Wait(wctx, c.ID)
			exits <- exited{service: c.Labels[LabelService], code: code, err: err}
		}()
	}
	stop := func() {
		stopLogs()
		sctx := context.WithoutCancel(ctx)
		o.emit(Event{Status: "Stopping", Detail: "the attached services"})
		if err := o.Stop(sctx, p, StopOptions{Services: started, Timeout: opts.Timeout}); err != nil {
			o.warn("", err.Error())
		}
	}
	for waiting > 0 {
		select {
		case <-ctx.Done():
			stop()
			<-logsDone
			return 0, ctx.Err()
		case e := <-exits:
			waiting--
			if e.err != nil {
				if ctx.Err() != nil {
					continue
				}
				stop()
				<-logsDone
				return 0, e.err
			}
			if opts.AbortOnExit || (opts.AbortOnFailure && e.code != 0) {
				o.emit(Event{Service: e.service, Status: "Aborting", Detail: fmt.Sprintf("on container exit (code %d)", e.code), Level: Warn})
				stop()
				<-logsDone
				code := e.code
				if opts.ExitCodeFrom != "" && opts.ExitCodeFrom != e.service {
					code = o.exitCodeOf(context.WithoutCancel(ctx), cs, opts.ExitCodeFrom)
				}
				return code, nil
			}
		}
	}
	// Every container has exited by itself: the output ends with them.
	<-logsDone
	code := 0
	if opts.ExitCodeFrom != "" {
		code = o.exitCodeOf(ctx, cs, opts.ExitCodeFrom)
	}
	return code, nil
}

// exitCodeOf is the exit code of the service's stopped container.
func (o *Orchestrator) exitCodeOf(ctx context.Context, cs []Container, service string) int {
	for _, c := range cs {
		if c.Labels[LabelService] == service && !isLeftover(c) {
			if d, err := o.Engine.Inspect(ctx, c.ID); err == nil {
				return d.ExitCode
			}
		}
	}
	return 0
}
