package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// waitReady returns once the container runs and, if it has a healthcheck,
// passes it. It runs the healthcheck itself right away and then often, so
// readiness is seen long before the engine's first scheduled probe.
func (o *Orchestrator) waitReady(wctx, ctx context.Context, ds *DesiredService, id string, kept bool) error {
	name := ds.Name
	details, err := o.Engine.Inspect(wctx, id)
	if err != nil {
		return o.waitErr(ctx, name, id, err)
	}
	hc := details.Healthcheck
	if kept && details.Running && (details.Health == "healthy" || (hc == nil && details.Health == "")) {
		return nil
	}
	if hc == nil && !ds.HasHealthcheck {
		// No healthcheck: running is ready, but a container that dies at
		// once should not count as started.
		return o.watchRunning(wctx, ctx, name, id)
	}
	o.emit(Event{Service: name, Name: details.Name, Status: "Waiting", Detail: "for health"})
	delay := 25 * time.Millisecond
	lastOutput := ""
	for {
		if details.Health == "healthy" {
			break
		}
		if !details.Running && !details.Restarting {
			return o.failed(ctx, name, id, "exited before it became healthy", details, lastOutput)
		}
		if details.Health == "unhealthy" {
			return o.failed(ctx, name, id, "is unhealthy", details, details.HealthLog)
		}
		if hc != nil && details.Running {
			res, err := o.probe(wctx, id, hc)
			if err == nil && res.ExitCode == 0 {
				break
			}
			if err == nil {
				lastOutput = res.Output
			}
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			details, _ = o.Engine.Inspect(context.WithoutCancel(ctx), id)
			out := details.HealthLog
			if out == "" {
				out = lastOutput
			}
			return o.failed(ctx, name, id, "did not become healthy before the wait timeout", details, out)
		case <-time.After(delay):
		}
		delay = min(delay*3/2, 500*time.Millisecond)
		if details, err = o.Engine.Inspect(wctx, id); err != nil {
			return o.waitErr(ctx, name, id, err)
		}
	}
	o.emit(Event{Service: name, Name: details.Name, Status: "Healthy"})
	return nil
}

// watchRunning checks a container without healthcheck is still running a
// moment after start, so a crash at start-up is reported.
func (o *Orchestrator) watchRunning(wctx, ctx context.Context, name, id string) error {
	for i := 0; i < 3; i++ {
		d, err := o.Engine.Inspect(wctx, id)
		if err != nil {
			return o.waitErr(ctx, name, id, err)
		}
		if !d.Running && !d.Restarting {
			return o.failed(ctx, name, id, "exited", d, "")
		}
		if i < 2 {
			select {
			case <-wctx.Done():
				return nil
			case <-time.After(50 * time.Millisecond):
			}
		} else {
			o.emit(Event{Service: name, Name: d.Name, Status: "Running"})
		}
	}
	return nil
}

func (o *Orchestrator) waitCompleted(wctx, ctx context.Context, name, id string) error {
	delay := 25 * time.Millisecond
	for {
		d, err := o.Engine.Inspect(wctx, id)
		if err != nil {
			return o.waitErr(ctx, name, id, err)
		}
		if !d.Running && !d.Restarting && d.State != "created" {
			if d.ExitCode != 0 {
				return o.failed(ctx, name, id, "did not complete successfully", d, "")
			}
			o.emit(Event{Service: name, Name: d.Name, Status: "Exited", Detail: "completed"})
			return nil
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return o.failed(ctx, name, id, "did not complete before the wait timeout", d, "")
		case <-time.After(delay):
		}
		delay = min(delay*3/2, 500*time.Millisecond)
	}
}

func (o *Orchestrator) waitErr(ctx context.Context, name, id string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		d, _ := o.Engine.Inspect(context.WithoutCancel(ctx), id)
		return o.failed(ctx, name, id, "did not become ready before the wait timeout", d, d.HealthLog)
	}
	return fmt.Errorf("service %s: %w", name, err)
}

func (o *Orchestrator) failed(ctx context.Context, name, id, reason string, d ContainerDetails, health string) error {
	e := &ServiceError{Service: name, Reason: reason, Health: health}
	if !d.Running && d.State != "" && d.State != "created" {
		e.Exited, e.ExitCode = true, d.ExitCode
	}
	var buf bytes.Buffer
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := o.Engine.Logs(lctx, id, LogOptions{Tail: "20"}, &buf, &buf); err == nil {
		e.Logs = buf.String()
	}
	o.emit(Event{Service: name, Name: d.Name, Status: "Error", Detail: reason, Level: Error})
	return e
}

// probe runs the healthcheck test once with its timeout.
func (o *Orchestrator) probe(ctx context.Context, id string, hc *Healthcheck) (ExecResult, error) {
	cmd := HealthCommand(hc.Test)
	if cmd == nil {
		return ExecResult{ExitCode: 1}, nil
	}
	timeout := hc.Timeout
	if timeout <= 0 || timeout > 30*time.Second {
		timeout = 30 * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return o.Engine.Exec(pctx, id, cmd)
}

// HealthCommand turns a healthcheck test into an exec command line.
func HealthCommand(test []string) []string {
	if len(test) == 0 {
		return nil
	}
	switch test[0] {
	case "CMD":
		return test[1:]
	case "CMD-SHELL":
		return []string{"/bin/sh", "-c", strings.Join(test[1:], " ")}
	case "NONE":
		return nil
	}
	return []string{"/bin/sh", "-c", strings.Join(test, " ")}
}
