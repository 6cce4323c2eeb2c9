package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal; env decides colour and TERM=dumb.
func isTerminal(w io.Writer, e env) bool {
	f, ok := w.(*os.File)
	if !ok || e.get("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// reporter picks the progress renderer once, from --progress and the
// terminal.
func (a *app) reporter() progressRenderer {
	mode := a.progress
	if mode == "" || mode == "auto" {
		mode = "plain"
		if isTerminal(a.stderr, a.env) {
			mode = "tty"
		}
	}
	color := a.env.get("NO_COLOR") == "" && !a.noColor && isTerminal(a.stderr, a.env)
	switch mode {
	case "quiet":
		return &quietRenderer{}
	case "json":
		return &jsonRenderer{w: a.stderr, secrets: &a.secrets}
	case "tty":
		return newTTYRenderer(a.stderr, color, &a.secrets)
	}
	return &plainRenderer{w: a.stderr, color: color, secrets: &a.secrets}
}

// reporterQuiet is the reporter, or none when the command's own --quiet
// asks for no progress.
func (a *app) reporterQuiet(quiet bool) progressRenderer {
	if quiet {
		return &quietRenderer{}
	}
	return a.reporter()
}

// reporterAfterLive is the renderer for what follows a live display (up's
// attached output): line by line where the live one redrew, as chosen
// otherwise.
func (a *app) reporterAfterLive() progressRenderer {
	if a.progress == "" || a.progress == "auto" || a.progress == "tty" {
		color := a.env.get("NO_COLOR") == "" && !a.noColor && isTerminal(a.stderr, a.env)
		return &plainRenderer{w: a.stderr, color: color, secrets: &a.secrets}
	}
	return a.reporter()
}

type progressRenderer interface {
	orchestrator.Reporter
	Close()
}

type quietRenderer struct{}

func (*quietRenderer) Event(orchestrator.Event) {}
func (*quietRenderer) Close()                   {}

type plainRenderer struct {
	mu      sync.Mutex
	w       io.Writer
	color   bool
	secrets *[]string
}

func (r *plainRenderer) Event(e orchestrator.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(r.w, mask(eventLine(e, r.color), *r.secrets))
}

func (r *plainRenderer) Close() {}

func eventLine(e orchestrator.Event, color bool) string {
	subject := e.Name
	if subject == "" {
		subject = e.Service
	}
	if e.Service != "" && e.Name != "" && e.Name != e.Service {
		subject = e.Service + " (" + e.Name + ")"
	}
	status := e.Status
	if color {
		switch e.Level {
		case orchestrator.Warn:
			status = "\x1b[33m" + status + "\x1b[0m"
		case orchestrator.Error:
			status = "\x1b[31m" + status + "\x1b[0m"
		default:
			status = "\x1b[32m" + status + "\x1b[0m"
		}
	}
	line := strings.TrimSpace(fmt.Sprintf("%s %s", subject, status))
	if subject == "" {
		line = status
	}
	if e.Detail != "" {
		line += " " + e.Detail
	}
	return line
}

type jsonRenderer struct {
	mu      sync.Mutex
	w       io.Writer
	secrets *[]string
}

func (r *jsonRenderer) Event(e orchestrator.Event) {
	level := map[orchestrator.Level]string{orchestrator.Info: "info", orchestrator.Warn: "warning", orchestrator.Error: "error"}[e.Level]
	b, _ := json.Marshal(struct {
		Time    string `json:"time"`
		Service string `json:"service,omitempty"`
		Name    string `json:"name,omitempty"`
		Status  string `json:"status"`
		Detail  string `json:"detail,omitempty"`
		Level   string `json:"level"`
	}{e.Time.UTC().Format(time.RFC3339Nano), e.Service, e.Name, e.Status, mask(e.Detail, *r.secrets), level})
	r.mu.Lock()
	fmt.Fprintln(r.w, string(b))
	r.mu.Unlock()
}

func (r *jsonRenderer) Close() {}

// ttyRenderer keeps one line per service or resource and redraws them in
// place, with the time since each started.
type ttyRenderer struct {
	mu      sync.Mutex
	w       io.Writer
	color   bool
	secrets *[]string
	start   map[string]time.Time
	last    map[string]orchestrator.Event
	order   []string
	drawn   int
	notes   []string
	stop    chan struct{}
	done    chan struct{}
}

func newTTYRenderer(w io.Writer, color bool, secrets *[]string) *ttyRenderer {
	r := &ttyRenderer{w: w, color: color, secrets: secrets, start: map[string]time.Time{}, last: map[string]orchestrator.Event{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.mu.Lock()
				r.draw()
				r.mu.Unlock()
			}
		}
	}()
	return r
}

func (r *ttyRenderer) Event(e orchestrator.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Level != orchestrator.Info && e.Status == "Warning" || e.Status == "Port" {
		r.notes = append(r.notes, mask(eventLine(e, r.color), *r.secrets))
		r.draw()
		return
	}
	key := e.Service
	if key == "" {
		key = e.Name
	}
	if _, ok := r.start[key]; !ok {
		r.start[key] = e.Time
		r.order = append(r.order, key)
	}
	r.last[key] = e
	r.draw()
}

func (r *ttyRenderer) draw() {
	if r.drawn > 0 {
		fmt.Fprintf(r.w, "\x1b[%dA", r.drawn)
	}
	lines := append([]string(nil), r.notes...)
	r.notes = nil
	keys := r.order
	for _, k := range keys {
		e := r.last[k]
		elapsed := e.Time.Sub(r.start[k])
		if !finished(e.Status) {
			elapsed = time.Since(r.start[k])
		}
		lines = append(lines, fmt.Sprintf(" %-40s %5.1fs", mask(eventLine(e, r.color), *r.secrets), elapsed.Seconds()))
	}
	for _, l := range lines {
		fmt.Fprintf(r.w, "\x1b[2K%s\n", l)
	}
	r.drawn = len(keys)
	// Notes scroll away above the live block.
}

func finished(status string) bool {
	switch status {
	case "Running", "Healthy", "Started", "Stopped", "Removed", "Created", "Error", "Killed", "Exited", "Pulled", "Recreated":
		return true
	}
	return false
}

func (r *ttyRenderer) Close() {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	r.draw()
	r.mu.Unlock()
}
