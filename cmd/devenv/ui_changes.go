package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/registry"
)

// Changes sends on each engine event of a compose project, each change of
// the registry file or of a host service's state, and each new resource
// sample; projects on remote engines are looked at again every 5 s.
func (s *uiSource) Changes(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	send := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	go s.engineEvents(ctx, send)
	go s.watchFiles(ctx, send)
	go s.sample(ctx, send)
	return ch
}

// engineEvents follows this machine's engine's event stream for compose
// projects' containers, again after it ends.
func (s *uiSource) engineEvents(ctx context.Context, send func()) {
	eng := s.engine()
	if eng == nil {
		return
	}
	for ctx.Err() == nil {
		evs, errs := eng.Events(ctx, []string{orchestrator.LabelProject}, "", "")
		for open := true; open; {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-evs:
				if ok && !strings.HasPrefix(ev.Action, "exec_") {
					// A healthcheck's execs change nothing shown (its result
					// comes as health_status). The engine may tell of a death
					// before its list says so: a second look shortly after.
					send()
					time.AfterFunc(150*time.Millisecond, send)
				}
				open = ok
			case <-errs:
				open = false
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
			send() // the engine may have come back: look again
		}
	}
}

// watchFiles looks at the registry file and the host services' state
// files every 200 ms; a remote project makes a look every 5 s.
func (s *uiSource) watchFiles(ctx context.Context, send func()) {
	last, lastRemote := "", time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
		sig := fileSignature(s.store.Path)
		matches, _ := filepath.Glob(filepath.Join(s.state.Root, "*", "*.state.json"))
		for _, m := range matches {
			sig += fileSignature(m)
		}
		if sig != last {
			last = sig
			send()
		}
		if time.Since(lastRemote) > 5*time.Second {
			lastRemote = time.Now()
			if reg, err := s.store.Load(); err == nil && slices.ContainsFunc(reg.Projects, func(p *registry.Project) bool { return p.Engine != "" }) {
				send()
			}
		}
	}
}

func fileSignature(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return path + ":none;"
	}
	return fmt.Sprintf("%s:%d:%d;", path, st.ModTime().UnixNano(), st.Size())
}
