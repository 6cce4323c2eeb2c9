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
				if ok && shownChange(ev.Action) {
					// The engine may tell of a change before its list says
					// so: a second look shortly after.
					send()
					time.AfterFunc(100*time.Millisecond, send)
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

// shownChange says whether a container event changes what the page shows:
// not a healthcheck's execs (their result comes as health_status), not a
// signal (the death that follows is the change), not attach, resize, top
// or archive traffic.
func shownChange(action string) bool {
	action, _, _ = strings.Cut(action, ":")
	switch {
	case strings.HasPrefix(action, "exec_"):
		return false
	case action == "kill", action == "attach", action == "detach", action == "resize", action == "top",
		action == "archive-path", action == "extract-to-dir", action == "export", action == "commit", action == "copy":
		return false
	}
	return true
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
