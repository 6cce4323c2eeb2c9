package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
	"github.com/devenv-dev/devenv/registry"
)

// PsOptions are the flags of `ps`.
type PsOptions struct {
	Services []string
	All      bool
	// Status keeps containers in these states (compose's --status and
	// --filter status=); it implies all states are looked at.
	Status []string
	// NoOrphans leaves out containers of services the file does not
	// declare (compose's --orphans=false).
	NoOrphans bool
}

// HostStatus is a host service's state for ps.
type HostStatus struct {
	Service   string
	Role      string
	Port      int
	Listening bool
	// Managed host services (with a command) have the supervisor's state.
	Managed bool
	State   HostState
	Known   bool // the state is recorded and its process verified
	// Orphan is a host service devenv still runs that the file no longer
	// declares (up --remove-orphans stops it).
	Orphan bool
}

// PsResult lists containers and host services.
type PsResult struct {
	Containers []Container
	Host       []HostStatus
	// Engine is a remote engine's endpoint ("" for the local engine), and
	// Forwarding whether the project's forward serves its ports here.
	Engine     string
	Forwarding bool
	// URLs are each service's names as URLs, its own name first.
	URLs map[string][]string
}

// Ps lists the project's containers with one engine call (running ones
// unless All), plus the host services and whether they listen.
func (o *Orchestrator) Ps(ctx context.Context, p *compose.Project, opts PsOptions) (*PsResult, error) {
	sel := opts.Services
	if err := p.CheckNames(sel); err != nil {
		return nil, err
	}
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject + "=" + p.Name()}, All: opts.All || len(opts.Status) > 0})
	if err != nil {
		return nil, err
	}
	res := &PsResult{}
	res.Engine, res.Forwarding = o.reach().label(), o.Forwarding(p.Name())
	for _, c := range cs {
		if c.Labels[LabelOneoff] == "True" {
			continue
		}
		if len(sel) > 0 && !slices.Contains(sel, c.Labels[LabelService]) {
			continue
		}
		if len(opts.Status) > 0 && !slices.Contains(opts.Status, c.State) {
			continue
		}
		if opts.NoOrphans && len(p.Files) > 0 && !p.Declares(c.Labels[LabelService]) {
			continue
		}
		res.Containers = append(res.Containers, c)
	}
	sort.Slice(res.Containers, func(i, j int) bool { return res.Containers[i].Name < res.Containers[j].Name })
	var reserved *registry.Project
	if reg, err := o.Registry.Load(); err == nil {
		reserved = reg.Find(p.Name(), o.EngineKey)
		res.URLs = reserved.URLs(reg.ProxyPort())
	}
	if o.Sockets == nil && o.EngineKey != "" {
		return res, nil
	}
	for _, name := range sortedKeys(p.X.Host) {
		if len(sel) > 0 && !slices.Contains(sel, name) {
			continue
		}
		h := p.X.Host[name]
		port := reserved.HostPort(name, h.Port)
		hs := HostStatus{Service: name, Role: h.Role, Port: port, Listening: dialable(ctx, port), Managed: h.Managed()}
		if o.Hosts != nil && h.Managed() {
			hs.State, hs.Known = o.Hosts.Status(p.Name(), name)
		}
		res.Host = append(res.Host, hs)
	}
	if !opts.NoOrphans && len(sel) == 0 {
		for _, h := range o.orphanHosts(p) {
			hs := HostStatus{Service: h.name, Managed: true, Orphan: true}
			hs.State, hs.Known = o.Hosts.Status(p.Name(), h.name)
			res.Host = append(res.Host, hs)
		}
	}
	// As for containers: those in the states asked for, else the running
	// ones, unless all are asked for.
	res.Host = slices.DeleteFunc(res.Host, func(h HostStatus) bool {
		if len(opts.Status) > 0 {
			return !slices.Contains(opts.Status, h.StateName())
		}
		return !opts.All && h.StateName() != "running"
	})
	return res, nil
}

// StateName is the host service's state in compose's words: running,
// exited, or the supervisor's own (failed, restarting). A host service
// devenv does not run is running while its port answers.
func (h HostStatus) StateName() string {
	switch {
	case !h.Managed && h.Listening:
		return "running"
	case !h.Managed:
		return "exited"
	case !h.Known && (h.State.Status == "failed" || h.State.Status == "exited"):
		return h.State.Status
	case !h.Known:
		return "exited"
	case h.State.Running:
		return "running"
	}
	return h.State.Status
}

func dialable(ctx context.Context, port int) bool {
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// LogsOptions are the flags of `logs`.
type LogsOptions struct {
	Services []string
	Follow   bool
	Tail     string
	NoPrefix bool
	// Timestamps, Since and Until apply to containers' logs (the engine
	// keeps the times); host services' log files have none.
	Timestamps   bool
	Since, Until string
}

// Logs prints the containers' logs, each line prefixed with the container
// name, like compose.
func (o *Orchestrator) Logs(ctx context.Context, p *compose.Project, opts LogsOptions, out io.Writer) error {
	named, namedHosts := plan.SplitServices(p, opts.Services)
	var targets []Container
	if len(opts.Services) == 0 || len(named) > 0 {
		var err error
		if targets, err = o.selectContainers(ctx, p, named); err != nil {
			return err
		}
	}
	var hosts []string
	if o.Hosts != nil && (len(opts.Services) == 0 || len(namedHosts) > 0) {
		for _, name := range sortedKeys(p.X.Host) {
			if _, err := os.Stat(o.Hosts.LogPath(p.Name(), name)); err == nil && (len(opts.Services) == 0 || slices.Contains(namedHosts, name)) {
				hosts = append(hosts, name)
			}
		}
	}
	if len(hosts) > 0 && (opts.Since != "" || opts.Until != "" || opts.Timestamps) {
		o.warn("", fmt.Sprintf("host services' logs carry no times: --since, --until and --timestamps apply to containers only (%s shown whole)", strings.Join(hosts, ", ")))
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Name < targets[j].Name })
	label := func(c Container) string { return logLabel(p, c) }
	width := 0
	for _, c := range targets {
		width = max(width, len(label(c))+1)
	}
	for _, h := range hosts {
		width = max(width, len(h)+1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(targets)+len(hosts))
	names := make([]string, 0, len(errs))
	for i := range len(targets) + len(hosts) {
		name := ""
		var run func(w *prefixWriter) error
		if i < len(targets) {
			c := targets[i]
			name = label(c)
			run = func(w *prefixWriter) error {
				return o.Engine.Logs(ctx, c.ID, LogOptions{Follow: opts.Follow, Tail: opts.Tail, Timestamps: opts.Timestamps, Since: opts.Since, Until: opts.Until}, w, w)
			}
		} else {
			name = hosts[i-len(targets)]
			path := o.Hosts.LogPath(p.Name(), name)
			run = func(w *prefixWriter) error { return FollowFile(ctx, path, opts.Tail, opts.Follow, w) }
		}
		names = append(names, name)
		prefix := ""
		if !opts.NoPrefix {
			prefix = fmt.Sprintf("%-*s | ", width, name)
		}
		w := &prefixWriter{mu: &mu, out: out, prefix: prefix}
		do := func() {
			errs[i] = run(w)
			w.flush()
		}
		if opts.Follow {
			wg.Add(1)
			go func() { defer wg.Done(); do() }()
		} else {
			do()
		}
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("logs of %s: %w", names[i], err)
		}
	}
	return ctx.Err()
}

// logLabel names a container in output as compose does: a name compose
// gave it without the project's ("web-1"), any other name (container_name,
// a one-off's) whole. Lines are padded one past the longest label.
func logLabel(p *compose.Project, c Container) string {
	svc, n := c.Labels[LabelService], c.Labels[LabelNumber]
	if c.Name == p.Name()+"-"+svc+"-"+n {
		return svc + "-" + n
	}
	return c.Name
}

// FollowFile prints a host service's log file (its last tail lines, "all"
// or "" for everything) and, with follow, what is appended until ctx ends,
// across a rotation.
func FollowFile(ctx context.Context, path, tail string, follow bool, w io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	offset := int64(len(b)) // what was read, before tail trims it
	if n, err := strconv.Atoi(tail); err == nil && n >= 0 {
		lines := bytes.SplitAfter(b, []byte("\n"))
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		b = bytes.Join(lines[max(0, len(lines)-n):], nil)
	}
	if _, err := w.Write(b); err != nil || !follow {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		st, err := os.Stat(path)
		if err != nil {
			continue
		}
		if st.Size() < offset {
			offset = 0 // rotated
		}
		if st.Size() == offset {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		buf := make([]byte, st.Size()-offset)
		n, _ := f.ReadAt(buf, offset)
		f.Close()
		offset += int64(n)
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
	}
}

// prefixWriter writes whole lines with a prefix, so lines of concurrent
// containers never interleave.
type prefixWriter struct {
	mu     *sync.Mutex
	out    io.Writer
	prefix string
	buf    []byte
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.mu.Lock()
		_, err := io.WriteString(w.out, w.prefix+string(w.buf[:i+1]))
		w.mu.Unlock()
		if err != nil {
			return 0, err
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *prefixWriter) flush() {
	if len(w.buf) > 0 {
		w.mu.Lock()
		_, _ = io.WriteString(w.out, w.prefix+strings.TrimRight(string(w.buf), "\n")+"\n")
		w.mu.Unlock()
		w.buf = nil
	}
}
