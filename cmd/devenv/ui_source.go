package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/dashboard"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/docker"
	"github.com/devenv-dev/devenv/orchestrator/process"
	"github.com/devenv-dev/devenv/proxy"
	"github.com/devenv-dev/devenv/registry"
)

// uiSource is the dashboard's view of the machine, taken from the command
// line itself: each answer is what the CLI's --format json prints (the
// command run in this process), and each action runs the CLI.
type uiSource struct {
	a     *app
	store *registry.Store
	state process.Dir
	// exe is devenv, run for actions (nil with an in-memory engine: the
	// command then runs in this process).
	exe string

	engineOnce sync.Once
	eng        *docker.Engine

	mu      sync.Mutex
	details map[string]uiDetails // containers' inspect, by ID and state
	tails   map[string][]string  // dead services' last lines, by key
	usage   map[string]uiUsage   // CPU and memory, by project/service
	ticks   map[string]uiTicks   // host services' last CPU reading
}

type uiDetails struct {
	key      string
	started  time.Time
	restarts int
}

type uiUsage struct{ cpu, mem string }

type uiTicks struct {
	ticks uint64
	at    time.Time
}

// projectRef is a project as the CLI is pointed at it: its name and
// instance, its directory, and a remote engine's endpoint ("" for this
// machine's engine).
type projectRef struct {
	name, instance, dir, engine, endpoint string
}

// refKey is a project's key: one name may be a project on two engines.
func refKey(name, engine string) string { return name + "\x00" + engine }

// userEnv is the environment a dashboard command runs with: the one the
// server started with, less what would point it at another file, profile,
// instance or project (the proxy may have started in any shell).
func userEnv(environ []string) []string {
	return slices.DeleteFunc(environ, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return strings.HasPrefix(k, "COMPOSE_") || k == "DEVENV_INSTANCE" || k == "DOCKER_CONTEXT" || k == proxy.ServeEnv
	})
}

// inProcess serialises the commands the dashboard runs in this process:
// the command line's library keeps state in globals (its flags, the help
// printer, the log output), so two at once would race.
var inProcess sync.Mutex

// cli runs a short devenv ARGS in this process against p (none: no
// project) and returns what it printed.
func (s *uiSource) cli(ctx context.Context, p *projectRef, out io.Writer, args ...string) (code int, stderr string) {
	line, dir, environ := s.line(p, args)
	var errb bytes.Buffer
	inProcess.Lock()
	defer inProcess.Unlock()
	code = runOn(ctx, s.a.local, dir, line, environ, nil, out, &errb)
	return code, strings.TrimSpace(errb.String())
}

// line is the command line, directory and environment that point devenv
// at p: its name (and instance), its directory, its engine.
func (s *uiSource) line(p *projectRef, args []string) (line []string, dir string, environ []string) {
	line = []string{"devenv", "--registry", s.store.Path}
	dir = "/"
	environ = userEnv(s.a.env.list())
	if p != nil {
		line = append(line, "-p", p.name)
		if p.instance != "" {
			line = append(line, "--instance", p.instance)
		}
		if st, err := os.Stat(p.dir); err == nil && st.IsDir() {
			dir = p.dir
		}
		if p.endpoint != "" {
			environ = append(slices.DeleteFunc(environ, func(kv string) bool { return strings.HasPrefix(kv, "DOCKER_HOST=") }), "DOCKER_HOST="+p.endpoint)
		}
	}
	return append(line, args...), dir, environ
}

// jsonOf runs a --format json command and decodes its output: one array,
// or one object per line.
func (s *uiSource) jsonOf(ctx context.Context, p *projectRef, args ...string) ([]json.RawMessage, error) {
	var out bytes.Buffer
	code, stderr := s.cli(ctx, p, &out, args...)
	if code != exitOK && out.Len() == 0 {
		return nil, fmt.Errorf("devenv %s: %s", strings.Join(args, " "), stderr)
	}
	b := bytes.TrimSpace(out.Bytes())
	if bytes.HasPrefix(b, []byte("[")) {
		var rows []json.RawMessage
		return rows, json.Unmarshal(b, &rows)
	}
	rows := []json.RawMessage{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			rows = append(rows, json.RawMessage(line))
		}
	}
	return rows, nil
}

func decodeRows[T any](raw []json.RawMessage) ([]T, error) {
	out := make([]T, 0, len(raw))
	for _, r := range raw {
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// projects are ls's rows, and where each is reached.
func (s *uiSource) projects(ctx context.Context) ([]orchestrator.ProjectRow, map[string]*projectRef, error) {
	raw, err := s.jsonOf(ctx, nil, "ls", "--format", "json")
	if err != nil {
		return nil, nil, err
	}
	rows, err := decodeRows[orchestrator.ProjectRow](raw)
	if err != nil {
		return nil, nil, err
	}
	endpoints := map[string]string{}
	if reg, err := s.store.Load(); err == nil {
		for _, p := range reg.Projects {
			if p.Engine == "" {
				continue
			}
			ep := p.Endpoint
			if ep == "" && strings.Contains(p.Engine, "://") {
				ep = p.Engine // written when engines were keyed by endpoint
			}
			endpoints[refKey(p.Name, p.EngineLabel())] = ep
		}
	}
	refs := map[string]*projectRef{}
	for _, r := range rows {
		ref := &projectRef{name: r.Name, instance: r.Instance, dir: r.Directory, engine: r.Engine, endpoint: endpoints[refKey(r.Name, r.Engine)]}
		if r.Engine != "" && ref.endpoint == "" && strings.Contains(r.Engine, "://") {
			ref.endpoint = r.Engine
		}
		refs[refKey(r.Name, r.Engine)] = ref
	}
	return rows, refs, nil
}

// API answers /api/ls, /api/ps, /api/ports and /api/health.
func (s *uiSource) API(ctx context.Context, name string, query map[string]string) (any, error) {
	switch name {
	case "ls":
		return s.jsonOf(ctx, nil, "ls", "--format", "json")
	case "ports":
		return s.jsonOf(ctx, nil, "ports", "--format", "json")
	}
	_, refs, err := s.projects(ctx)
	if err != nil {
		return nil, err
	}
	p, ok := refs[refKey(query["project"], query["engine"])]
	if !ok {
		return nil, &dashboard.NotFoundError{What: "project " + query["project"]}
	}
	if name == "ps" {
		return s.jsonOf(ctx, p, "ps", "-a", "--format", "json")
	}
	return s.jsonOf(ctx, p, "health", "--format", "json")
}

// ConnectURL is connect --url of the service.
func (s *uiSource) ConnectURL(ctx context.Context, at dashboard.Action) (string, error) {
	_, refs, err := s.projects(ctx)
	if err != nil {
		return "", err
	}
	p, ok := refs[refKey(at.Project, at.Engine)]
	if !ok {
		return "", &dashboard.NotFoundError{What: "project " + at.Project}
	}
	service := at.Service
	var out bytes.Buffer
	if code, stderr := s.cli(ctx, p, &out, "connect", "--url", service); code != exitOK {
		return "", fmt.Errorf("%s", strings.TrimPrefix(stderr, "devenv: "))
	}
	return strings.TrimSpace(out.String()), nil
}

// Logs follows devenv logs -f of the project (or one service).
func (s *uiSource) Logs(ctx context.Context, at dashboard.Action, tail int, line func(string)) error {
	_, refs, err := s.projects(ctx)
	if err != nil {
		return err
	}
	p, ok := refs[refKey(at.Project, at.Engine)]
	if !ok {
		return &dashboard.NotFoundError{What: "project " + at.Project}
	}
	args := []string{"logs", "-f", "--tail", fmt.Sprint(tail)}
	if at.Service != "" {
		args = append(args, at.Service)
	}
	var errb bytes.Buffer
	w := &lineWriter{line: line}
	code, err := s.run(ctx, p, w, &errb, args...)
	w.Flush()
	if code != exitOK && ctx.Err() == nil {
		if err != nil {
			return err
		}
		return fmt.Errorf("%s", strings.TrimPrefix(strings.TrimSpace(errb.String()), "devenv: "))
	}
	return nil
}

// Run runs the action as the CLI: devenv itself, its output line by line.
func (s *uiSource) Run(ctx context.Context, act dashboard.Action, line func(string)) (int, error) {
	_, refs, err := s.projects(ctx)
	if err != nil {
		return exitFailed, err
	}
	p, ok := refs[refKey(act.Project, act.Engine)]
	if !ok {
		return exitUsage, &dashboard.NotFoundError{What: "project " + act.Project}
	}
	args := []string{"--progress", "plain", act.Verb}
	if act.Verb == "up" {
		args = append(args, "--detach")
	}
	if act.Service != "" {
		args = append(args, act.Service)
	}
	w := &lineWriter{line: line}
	defer w.Flush()
	return s.run(ctx, p, w, w, args...)
}

// run runs devenv ARGS against p to its end: devenv itself, in a session
// of its own (stopping the server does not cut an up or down short);
// with an in-memory engine, in this process.
func (s *uiSource) run(ctx context.Context, p *projectRef, stdout, stderr io.Writer, args ...string) (int, error) {
	argv, dir, environ := s.line(p, args)
	if s.exe == "" {
		inProcess.Lock()
		defer inProcess.Unlock()
		return runOn(ctx, s.a.local, dir, argv, environ, nil, stdout, stderr), nil
	}
	cmd := exec.CommandContext(ctx, s.exe, argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stdout, stderr
	// The action's own marker (a test binary runs as devenv by it).
	cmd.Env = append(environ, cliEnv+"=1")
	detach(cmd)
	// Stopped as Ctrl-C stops it (the CLI cleans up), killed after a while.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	err := cmd.Run()
	if cmd.ProcessState != nil {
		return cmd.ProcessState.ExitCode(), nil
	}
	return exitFailed, err
}

// cliEnv marks devenv run by devenv as its command line (an action, the
// dashboard's own server): a test binary runs as devenv by it.
const cliEnv = "DEVENV_CLI"

// lineWriter hands what is written to it on line by line.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// Flush hands on a last line without its newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}
