package orchestrator

import (
	"context"
	"fmt"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// WaitResult is a container or host service that stopped.
type WaitResult struct {
	Container, ID string
	// Host is a host service's name ("" for a container).
	Host     string
	ExitCode int
}

// Wait blocks until the selected services' containers stop, reporting each
// to fn as it does. With downProject, the first to stop takes the project
// down (as compose's wait --down-project).
func (o *Orchestrator) Wait(ctx context.Context, p *compose.Project, services []string, downProject bool, fn func(WaitResult)) error {
	containers, hosts, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return err
	}
	if o.Hosts == nil {
		hosts = nil
	}
	if len(containers)+len(hosts) == 0 {
		return &compose.ConfigError{File: p.MainFile(), Msg: "no containers or host services to wait for"}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan WaitResult, len(containers)+len(hosts))
	errs := make(chan error, len(containers)+len(hosts))
	for _, h := range hosts {
		go func() {
			// A host service has ended when its supervisor has (no
			// restart left); its state keeps the exit code.
			for {
				st, alive := o.Hosts.Status(p.Name(), h)
				if !alive {
					results <- WaitResult{Container: "host:" + h, ID: "host:" + h, Host: h, ExitCode: st.ExitCode}
					return
				}
				select {
				case <-wctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}
	for _, c := range containers {
		go func() {
			code, err := o.Engine.Wait(wctx, c.ID)
			if err != nil {
				errs <- fmt.Errorf("wait for %s: %w", c.Name, err)
				return
			}
			results <- WaitResult{Container: c.Name, ID: c.ID, ExitCode: code}
		}()
	}
	for range len(containers) + len(hosts) {
		select {
		case r := <-results:
			fn(r)
			if downProject {
				cancel()
				return o.Down(ctx, p, DownOptions{})
			}
		case err := <-errs:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
