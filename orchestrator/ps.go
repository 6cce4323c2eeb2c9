package orchestrator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// PsOptions are the flags of `ps`.
type PsOptions struct {
	Services []string
	All      bool
}

// HostStatus is a host service's state for ps.
type HostStatus struct {
	Service   string
	Role      string
	Port      int
	Listening bool
}

// PsResult lists containers and host services.
type PsResult struct {
	Containers []Container
	Host       []HostStatus
}

// Ps lists the project's containers with one engine call (running ones
// unless All), plus the host services and whether they listen.
func (o *Orchestrator) Ps(ctx context.Context, p *compose.Project, opts PsOptions) (*PsResult, error) {
	sel := opts.Services
	if len(sel) > 0 {
		if _, err := p.SelectServices(sel); err != nil {
			if _, ok := p.X.Host[sel[0]]; !ok {
				return nil, err
			}
		}
	}
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject + "=" + p.Name()}, All: opts.All})
	if err != nil {
		return nil, err
	}
	res := &PsResult{}
	for _, c := range cs {
		if c.Labels[LabelOneoff] == "True" {
			continue
		}
		if len(sel) > 0 && !slices.Contains(sel, c.Labels[LabelService]) {
			continue
		}
		res.Containers = append(res.Containers, c)
	}
	sort.Slice(res.Containers, func(i, j int) bool { return res.Containers[i].Name < res.Containers[j].Name })
	if o.Probe == nil && o.EngineKey != "" {
		return res, nil
	}
	var reserved []registry.Reservation
	if len(p.X.Host) > 0 {
		if reg, err := o.Registry.Load(); err == nil {
			if rp := reg.Find(p.Name(), o.EngineKey); rp != nil {
				reserved = rp.Reservations
			}
		}
	}
	for _, name := range sortedKeys(p.X.Host) {
		if len(sel) > 0 && !slices.Contains(sel, name) {
			continue
		}
		h := p.X.Host[name]
		port := h.Port
		for _, r := range reserved {
			if r.Service == name && r.Host {
				port = r.Port
			}
		}
		res.Host = append(res.Host, HostStatus{Service: name, Role: h.Role, Port: port, Listening: dialable(ctx, port)})
	}
	return res, nil
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
}

// Logs prints the containers' logs, each line prefixed with the container
// name, like compose.
func (o *Orchestrator) Logs(ctx context.Context, p *compose.Project, opts LogsOptions, out io.Writer) error {
	targets, err := o.selectContainers(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Name < targets[j].Name })
	width := 0
	for _, c := range targets {
		width = max(width, len(c.Name))
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(targets))
	for i, c := range targets {
		prefix := ""
		if !opts.NoPrefix {
			prefix = fmt.Sprintf("%-*s | ", width, c.Name)
		}
		w := &prefixWriter{mu: &mu, out: out, prefix: prefix}
		run := func() {
			errs[i] = o.Engine.Logs(ctx, c.ID, LogOptions{Follow: opts.Follow, Tail: opts.Tail}, w, w)
			w.flush()
		}
		if opts.Follow {
			wg.Add(1)
			go func() { defer wg.Done(); run() }()
		} else {
			run()
		}
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("logs of %s: %w", targets[i].Name, err)
		}
	}
	return nil
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
