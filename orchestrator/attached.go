package orchestrator

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
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
	t, err := attachTargetsOf(p, res, &opts)
	if err != nil {
		return 0, err
	}
	cs, err := o.selectContainers(ctx, p, t.started)
	if err != nil {
		return 0, err
	}
	lctx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	a := &attachment{o: o, p: p, opts: opts, out: out, targets: t, lctx: lctx, stopLogs: stopLogs}
	// New containers from their first line, kept ones from now (as
	// compose, which attaches without their history).
	var keptFollow, freshFollow []string
	for _, s := range t.watched {
		if slices.Contains(t.fresh, s) || !slices.Contains(t.started, s) {
			freshFollow = append(freshFollow, s)
		} else {
			keptFollow = append(keptFollow, s)
		}
	}
	a.follow(freshFollow, "")
	a.follow(keptFollow, time.Now().Format(time.RFC3339Nano))

	wctx, stopWaits := context.WithCancel(ctx)
	defer stopWaits()
	a.wctx, a.stopWaits, a.exits = wctx, stopWaits, make(chan exited, len(cs))
	waiting := 0
	for _, c := range cs {
		if !plan.IsLeftover(c) && slices.Contains(t.watched, c.Labels[LabelService]) {
			waiting++
			go a.wait(c)
		}
	}
	watchedContainers := waiting
	for waiting > 0 {
		select {
		case <-ctx.Done():
			a.stop(ctx)
			return 0, ctx.Err()
		case e := <-a.exits:
			if ctx.Err() != nil {
				continue // the Ctrl-C case stops
			}
			if e.err != nil {
				a.stop(ctx)
				return 0, e.err
			}
			if a.restarting(e) {
				continue
			}
			waiting--
			if code, done := a.exited(ctx, cs, e); done {
				return code, nil
			}
		}
	}
	if watchedContainers == 0 || slices.ContainsFunc(t.hosts, func(h string) bool { return slices.Contains(t.watched, h) }) {
		// What is watched does not end by itself (host services, or no
		// container at all): until Ctrl-C.
		<-ctx.Done()
	}
	if err := ctx.Err(); err != nil {
		a.stop(ctx)
		return 0, err
	}
	// Every watched container has exited by itself: its output ends with
	// it (host services' files do not, so not waited for long).
	a.drain()
	code := 0
	if opts.ExitCodeFrom != "" {
		code = o.exitCodeOf(ctx, cs, opts.ExitCodeFrom)
	}
	return code, nil
}

// attachTargets are what up started (fresh: created or restarted now) and
// which of it attached mode follows; --exit-code-from must be among what
// was started, and implies --abort-on-container-exit.
type attachTargets struct {
	started, fresh, hosts, watched []string
	followNone                     bool // every one was --no-attach'ed
}

func attachTargetsOf(p *compose.Project, res *UpResult, opts *AttachOptions) (attachTargets, error) {
	var t attachTargets
	for _, s := range res.Plan.Steps {
		switch s.Action {
		case ActCreate, ActRecreate, ActStart, ActRestart:
			t.fresh = append(t.fresh, s.Service)
			t.started = append(t.started, s.Service)
		case ActKeep:
			t.started = append(t.started, s.Service)
		case ActStartHost, ActRestartHost, ActKeepHost:
			t.hosts = append(t.hosts, s.Service)
		}
	}
	t.watched = slices.Clone(opts.Services)
	if len(t.watched) == 0 {
		for _, s := range t.started {
			if a := p.Model.Services[s].Attach; a == nil || *a {
				t.watched = append(t.watched, s)
			}
		}
		t.watched = append(t.watched, t.hosts...)
	}
	t.watched = slices.DeleteFunc(t.watched, func(s string) bool { return slices.Contains(opts.NoAttach, s) })
	t.followNone = len(t.watched) == 0
	if opts.ExitCodeFrom != "" {
		if !slices.Contains(t.started, opts.ExitCodeFrom) {
			return t, &compose.ConfigError{File: p.MainFile(), Key: "up --exit-code-from",
				Msg: fmt.Sprintf("service %s is not among the services up started (%v)", opts.ExitCodeFrom, t.started)}
		}
		if !slices.Contains(t.watched, opts.ExitCodeFrom) {
			t.watched = append(t.watched, opts.ExitCodeFrom)
		}
		opts.AbortOnExit = opts.AbortOnExit || !opts.AbortOnFailure
	}
	return t, nil
}

// attachment is one attached up: the logs it follows and the containers it
// waits for.
type attachment struct {
	o        *Orchestrator
	p        *compose.Project
	opts     AttachOptions
	out      io.Writer
	targets  attachTargets
	lctx     context.Context
	stopLogs context.CancelFunc
	logs     sync.WaitGroup

	wctx      context.Context
	stopWaits context.CancelFunc
	exits     chan exited
}

// follow streams services' logs since a time ("" from their first line).
func (a *attachment) follow(services []string, since string) {
	if len(services) == 0 || a.targets.followNone {
		return
	}
	a.logs.Add(1)
	go func() {
		defer a.logs.Done()
		err := a.o.Logs(a.lctx, a.p, LogsOptions{Services: services, Follow: true, Tail: "all", Since: since, Timestamps: a.opts.Timestamps, NoPrefix: a.opts.NoPrefix}, a.out)
		if err != nil && a.lctx.Err() == nil {
			a.o.warn("", err.Error())
		}
	}()
}

func (a *attachment) wait(c Container) {
	code, err := a.o.Engine.Wait(a.wctx, c.ID)
	a.exits <- exited{c: c, code: code, err: err}
}

// drain lets the output run out, for a moment at most (host services' log
// files never end by themselves).
func (a *attachment) drain() {
	drained := make(chan struct{})
	go func() { a.logs.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
	}
	a.stopLogs()
	a.logs.Wait()
}

// stop stops what up started, then lets the output run out (the last lines
// of the container that ended it included).
func (a *attachment) stop(ctx context.Context) {
	// Not cancelled with the run, but bounded: another devenv holding the
	// project's lock does not keep this one forever.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	a.stopWaits()
	a.o.emit(Event{Status: "Stopping", Detail: "what up started"})
	if err := a.o.Stop(sctx, a.p, StopOptions{Services: append(slices.Clone(a.targets.started), a.targets.hosts...), Timeout: a.opts.Timeout}); err != nil {
		a.o.warn("", err.Error())
	}
	a.drain()
}

// restarting says the container its restart policy brings back, and
// follows it again once it runs (a restarting container has no output to
// follow yet).
func (a *attachment) restarting(e exited) bool {
	d, err := a.o.Engine.Inspect(a.wctx, e.c.ID)
	if err != nil || !(d.Restarting || d.Running) {
		return false
	}
	svc := e.c.Labels[LabelService]
	go func() {
		since := time.Now().Format(time.RFC3339Nano)
		for i := 0; i < 600 && a.wctx.Err() == nil; i++ {
			if d, err := a.o.Engine.Inspect(a.wctx, e.c.ID); err != nil || d.Running || !d.Restarting {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if a.wctx.Err() == nil {
			a.follow([]string{svc}, since)
		}
		a.wait(e.c)
	}()
	return true
}

// exited says a watched container ended; with an abort flag that applies,
// it stops everything and gives the exit code (done).
func (a *attachment) exited(ctx context.Context, cs []Container, e exited) (int, bool) {
	svc := e.c.Labels[LabelService]
	fmt.Fprintf(a.out, "%s exited with code %d\n", logLabel(a.p, e.c), e.code)
	if !a.opts.AbortOnExit && !(a.opts.AbortOnFailure && e.code != 0) {
		return 0, false
	}
	a.o.emit(Event{Service: svc, Status: "Aborting", Detail: fmt.Sprintf("on container exit (code %d)", e.code), Level: Warn})
	a.stop(ctx)
	code := e.code
	if a.opts.ExitCodeFrom != "" && a.opts.ExitCodeFrom != svc {
		code = a.o.exitCodeOf(context.WithoutCancel(ctx), cs, a.opts.ExitCodeFrom)
	}
	return code, true
}

// exitCodeOf is the exit code of the service's stopped container.
func (o *Orchestrator) exitCodeOf(ctx context.Context, cs []Container, service string) int {
	for _, c := range cs {
		if c.Labels[LabelService] == service && !plan.IsLeftover(c) {
			if d, err := o.Engine.Inspect(ctx, c.ID); err == nil {
				return d.ExitCode
			}
		}
	}
	return 0
}
