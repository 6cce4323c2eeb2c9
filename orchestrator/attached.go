package orchestrator

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// AttachOptions are compose's attached-up flags.
type AttachOptions struct {
	// Services whose output is followed and whose exits count (default:
	// all that up started, but those with attach: false), less NoAttach
	// (--no-attach).
	Services []string
	NoAttach []string
	// AbortOnExit stops everything when a watched container exits;
	// AbortOnFailure when one exits with a non-zero code. ExitCodeFrom
	// exits with that service's code (and aborts on its exit, unless
	// AbortOnFailure).
	AbortOnExit, AbortOnFailure bool
	ExitCodeFrom                string
	Timestamps, NoPrefix        bool
	// Timeout is how long stopping waits before SIGKILL (default: each
	// service's stop_grace_period).
	Timeout *time.Duration
}

type exited struct {
	c    Container
	code int
	err  error
}

// Attach is the attached half of compose's up, after the stack is up: it
// follows the output until Ctrl-C, or until a watched container exits when
// asked to abort on that, then stops what up started (host services too)
// and returns the exit code compose would: that of the container that
// caused the abort, or ExitCodeFrom's; 0 when every watched container has
// exited by itself. A container its restart policy restarts is followed
// again.
func (o *Orchestrator) Attach(ctx context.Context, p *compose.Project, res *UpResult, opts AttachOptions, out io.Writer) (int, error) {
	var started, fresh, hosts []string
	for _, s := range res.Plan.Steps {
		switch s.Action {
		case ActCreate, ActRecreate, ActStart, ActRestart:
			fresh = append(fresh, s.Service)
			started = append(started, s.Service)
		case ActKeep:
			started = append(started, s.Service)
		case ActStartHost, ActRestartHost, ActKeepHost:
			hosts = append(hosts, s.Service)
		}
	}
	watched := slices.Clone(opts.Services)
	if len(watched) == 0 {
		for _, s := range started {
			if a := p.Model.Services[s].Attach; a == nil || *a {
				watched = append(watched, s)
			}
		}
		watched = append(watched, hosts...)
	}
	watched = slices.DeleteFunc(watched, func(s string) bool { return slices.Contains(opts.NoAttach, s) })
	followNone := len(watched) == 0 // every one was --no-attach'ed
	if opts.ExitCodeFrom != "" {
		if !slices.Contains(started, opts.ExitCodeFrom) {
			return 0, &compose.ConfigError{File: p.MainFile(), Key: "up --exit-code-from",
				Msg: fmt.Sprintf("service %s is not among the services up started (%v)", opts.ExitCodeFrom, started)}
		}
		if !slices.Contains(watched, opts.ExitCodeFrom) {
			watched = append(watched, opts.ExitCodeFrom)
		}
		opts.AbortOnExit = opts.AbortOnExit || !opts.AbortOnFailure
	}
	cs, err := o.selectContainers(ctx, p, started)
	if err != nil {
		return 0, err
	}
	lctx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	var logs sync.WaitGroup
	follow := func(services []string, since string) {
		if len(services) == 0 || followNone {
			return
		}
		logs.Add(1)
		go func() {
			defer logs.Done()
			err := o.Logs(lctx, p, LogsOptions{Services: services, Follow: true, Tail: "all", Since: since, Timestamps: opts.Timestamps, NoPrefix: opts.NoPrefix}, out)
			if err != nil && lctx.Err() == nil {
				o.warn("", err.Error())
			}
		}()
	}
	// New containers from their first line, kept ones from now (as
	// compose, which attaches without their history).
	var keptFollow, freshFollow []string
	for _, s := range watched {
		if slices.Contains(fresh, s) || !slices.Contains(started, s) {
			freshFollow = append(freshFollow, s)
		} else {
			keptFollow = append(keptFollow, s)
		}
	}
	follow(freshFollow, "")
	follow(keptFollow, time.Now().Format(time.RFC3339Nano))

	wctx, stopWaits := context.WithCancel(ctx)
	defer stopWaits()
	exits := make(chan exited, len(cs))
	wait := func(c Container) {
		code, err := o.Engine.Wait(wctx, c.ID)
		exits <- exited{c: c, code: code, err: err}
	}
	waiting := 0
	for _, c := range cs {
		if !isLeftover(c) && slices.Contains(watched, c.Labels[LabelService]) {
			waiting++
			go wait(c)
		}
	}
	// drain lets the output run out, for a moment at most (host services'
	// log files never end by themselves).
	drain := func() {
		drained := make(chan struct{})
		go func() { logs.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(2 * time.Second):
		}
		stopLogs()
		logs.Wait()
	}
	// stop stops what up started, then lets the output run out (the last
	// lines of the container that ended it included).
	stop := func() {
		// Not cancelled with the run, but bounded: another devenv holding
		// the project's lock does not keep this one forever.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		stopWaits()
		o.emit(Event{Status: "Stopping", Detail: "what up started"})
		if err := o.Stop(sctx, p, StopOptions{Services: append(slices.Clone(started), hosts...), Timeout: opts.Timeout}); err != nil {
			o.warn("", err.Error())
		}
		drain()
	}
	watchedContainers := waiting
	for waiting > 0 {
		select {
		case <-ctx.Done():
			stop()
			return 0, ctx.Err()
		case e := <-exits:
			if ctx.Err() != nil {
				continue // the Ctrl-C case stops
			}
			if e.err != nil {
				stop()
				return 0, e.err
			}
			svc := e.c.Labels[LabelService]
			if d, err := o.Engine.Inspect(wctx, e.c.ID); err == nil && (d.Restarting || d.Running) {
				// Its restart policy brings it back: follow it again once it
				// runs (a restarting container has no output to follow yet).
				go func() {
					since := time.Now().Format(time.RFC3339Nano)
					for i := 0; i < 600 && wctx.Err() == nil; i++ {
						if d, err := o.Engine.Inspect(wctx, e.c.ID); err != nil || d.Running || !d.Restarting {
							break
						}
						time.Sleep(100 * time.Millisecond)
					}
					if wctx.Err() == nil {
						follow([]string{svc}, since)
					}
					wait(e.c)
				}()
				continue
			}
			waiting--
			fmt.Fprintf(out, "%s exited with code %d\n", logLabel(p, e.c), e.code)
			if opts.AbortOnExit || (opts.AbortOnFailure && e.code != 0) {
				o.emit(Event{Service: svc, Status: "Aborting", Detail: fmt.Sprintf("on container exit (code %d)", e.code), Level: Warn})
				stop()
				code := e.code
				if opts.ExitCodeFrom != "" && opts.ExitCodeFrom != svc {
					code = o.exitCodeOf(context.WithoutCancel(ctx), cs, opts.ExitCodeFrom)
				}
				return code, nil
			}
		}
	}
	if watchedContainers == 0 || slices.ContainsFunc(hosts, func(h string) bool { return slices.Contains(watched, h) }) {
		// What is watched does not end by itself (host services, or no
		// container at all): until Ctrl-C.
		<-ctx.Done()
	}
	if err := ctx.Err(); err != nil {
		stop()
		return 0, err
	}
	// Every watched container has exited by itself: its output ends with
	// it (host services' files do not, so not waited for long).
	drain()
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
