package orchestrator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/plan"
	"github.com/devenv-dev/devenv/orchestrator/probe"
	"github.com/devenv-dev/devenv/orchestrator/process"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/forward"
)

// HostRunner runs host services outside the engine; orchestrator/process
// implements it (cmd/devenv wires it in).
type HostRunner interface {
	// Start runs spec detached unless it already runs with the same hash
	// (kept); a running one with another hash is restarted.
	Start(ctx context.Context, spec HostSpec) (st HostState, kept bool, err error)
	// Stop ends the service's process group; killed says SIGKILL was needed.
	Stop(ctx context.Context, project, name string, grace time.Duration, signal string) (killed bool, err error)
	// Status is the recorded state, verified against pid reuse.
	Status(project, name string) (HostState, bool)
	// Names lists the host services with recorded state.
	Names(project string) []string
	// LogPath is the service's log file.
	LogPath(project, name string) string
	// Processes lists the service's process group as ps -ef columns.
	Processes(project, name string) [][]string
	// Signal sends a signal to the service's process group.
	Signal(project, name, signal string) error
	// Owns says which of project's host services pid belongs to.
	Owns(project string, pid int) (name string, ok bool)
}

// HostSpec is one host service to run.
type HostSpec struct {
	Project, Name string
	// ProjectDir is the project's directory: a same-named project in
	// another directory does not touch this one's host services.
	ProjectDir string
	Args       []string
	Dir        string
	Env        []string
	Restart    string
	Signal     string
	Grace      time.Duration
	Hash       string
}

// HostState is a run host service's state.
type HostState struct {
	PID        int
	ProjectDir string
	Hash       string
	Status     string // running, restarting, exited, failed, stopped
	StartedAt  time.Time
	Restarts   int
	ExitCode   int
	Running    bool
	Error      string
}

// ErrHostUnsupported is a host service with a command where devenv cannot
// run one.
var ErrHostUnsupported = errors.New("devenv cannot run host services here")

// hostSpec builds the run spec of a managed host service: {service}
// placeholders expanded in the command and env, PORT set to its own port
// unless env sets it, the working directory under the project.
func hostSpec(p *compose.Project, name string, ph compose.Placeholders, ca string) (HostSpec, error) {
	h := p.X.Host[name]
	file, key := p.MainFile(), compose.ExtensionKey+".host."+name
	spec := HostSpec{Project: p.Name(), Name: name, ProjectDir: p.Dir(), Restart: h.Restart, Signal: h.StopSignal, Grace: 10 * time.Second, Dir: p.Dir()}
	if h.Dir != "" {
		spec.Dir = filepath.Join(p.Dir(), h.Dir)
	}
	if h.StopGracePeriod != "" {
		spec.Grace, _ = time.ParseDuration(h.StopGracePeriod)
	}
	for _, a := range h.Command.Args {
		x, err := ph.Expand(a)
		if err != nil {
			return spec, &compose.ConfigError{File: file, Key: key + ".command", Msg: err.Error()}
		}
		spec.Args = append(spec.Args, x)
	}
	if h.Command.Shell {
		spec.Args = []string{"/bin/sh", "-c", spec.Args[0]}
	}
	own := []string{}
	if port, ok := ph.Port(name, 0); ok {
		own = append(own, "PORT="+strconv.Itoa(port))
	}
	for _, k := range sortedKeys(h.Env) {
		v, err := ph.Expand(h.Env[k])
		if err != nil {
			return spec, &compose.ConfigError{File: file, Key: key + ".env." + k, Msg: err.Error()}
		}
		own = append(own, k+"="+v)
	}
	own = append(own, behindProxy(h, name, ph, ca)...)
	// Only the service's own variables: the supervisor adds them to the
	// environment it inherits, and nothing else is written to disk.
	spec.Env = own
	sum := sha256.New()
	for _, part := range [][]string{spec.Args, own, {spec.Dir, spec.Restart, spec.Signal, spec.Grace.String()}} {
		fmt.Fprintf(sum, "%q\n", part)
	}
	spec.Hash = hex.EncodeToString(sum.Sum(nil))
	return spec, nil
}

// upHosts starts the host services after their dependencies (the
// containers are up by now), then waits for their health.
func (o *Orchestrator) upHosts(ctx context.Context, p *compose.Project, ports *PortResult, hosts []string, opts UpOptions) error {
	if len(hosts) == 0 {
		return nil
	}
	if o.Hosts == nil {
		return &compose.ConfigError{File: p.MainFile(), Key: compose.ExtensionKey + ".host." + hosts[0] + ".command", Msg: ErrHostUnsupported.Error()}
	}
	ph, check := placeholders(p, ports)
	timeout := opts.WaitTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, name := range plan.HostOrder(p, hosts) {
		wait := !opts.NoWait || plan.HostNeededHealthy(p, name, hosts)
		if err := o.startHost(ctx, wctx, p, name, ph, check, wait); err != nil {
			return err
		}
	}
	return nil
}

// startHost starts one host service and, when asked, waits for its health.
func (o *Orchestrator) startHost(ctx, wctx context.Context, p *compose.Project, name string, ph, check compose.Placeholders, wait bool) error {
	spec, err := hostSpec(p, name, ph, o.CACert)
	if err != nil {
		return err
	}
	o.emit(Event{Service: name, Name: "host", Status: "Starting"})
	st, kept, err := o.Hosts.Start(ctx, spec)
	if err != nil {
		return o.hostFailed(ctx, p, name, fmt.Sprintf("did not start: %v", err), st)
	}
	if kept {
		o.emit(Event{Service: name, Name: "host", Status: "Running", Detail: fmt.Sprintf("pid %d, unchanged", st.PID)})
	} else {
		o.emit(Event{Service: name, Name: "host", Status: "Started", Detail: fmt.Sprintf("pid %d", st.PID)})
	}
	if !wait {
		return nil
	}
	return o.waitHost(wctx, ctx, p, name, check)
}

// waitHost polls the host service's health (its URL, else TCP on its port)
// until it answers, its process gives up, or the wait times out.
func (o *Orchestrator) waitHost(wctx, ctx context.Context, p *compose.Project, name string, ph compose.Placeholders) error {
	h := p.X.Host[name]
	port, _ := ph.Port(name, 0)
	check := func(c context.Context) (string, string) {
		return probe.TCP(c, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	if h.Health != "" {
		url, err := ph.Expand(h.Health)
		if err != nil {
			return &compose.ConfigError{File: p.MainFile(), Key: compose.ExtensionKey + ".host." + name + ".health", Msg: err.Error()}
		}
		check = func(c context.Context) (string, string) { return probe.HTTP(c, url) }
	}
	o.emit(Event{Service: name, Name: "host", Status: "Waiting", Detail: "for health"})
	delay := 25 * time.Millisecond
	last := ""
	for {
		// The process first: a health URL answered by someone else does
		// not make a service that exited healthy.
		if st, ok := o.Hosts.Status(p.Name(), name); !ok || st.Status == "failed" || st.Status == "exited" {
			return o.hostFailed(ctx, p, name, "exited before it became healthy", st)
		}
		cctx, cancel := context.WithTimeout(wctx, 2*time.Second)
		status, detail := check(cctx)
		cancel()
		if status == StatusHealthy {
			o.emit(Event{Service: name, Name: "host", Status: "Healthy"})
			return nil
		}
		last = detail
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			st, _ := o.Hosts.Status(p.Name(), name)
			err := o.hostFailed(ctx, p, name, "did not become healthy before the wait timeout", st)
			err.(*ServiceError).Health = last
			return err
		case <-time.After(delay):
		}
		delay = min(delay*3/2, 500*time.Millisecond)
	}
}

func (o *Orchestrator) hostFailed(ctx context.Context, p *compose.Project, name, reason string, st HostState) error {
	e := &ServiceError{Service: name, Reason: reason, Logs: process.Tail(o.Hosts.LogPath(p.Name(), name), 20)}
	if st.Status == "exited" || st.Status == "failed" {
		e.Exited, e.ExitCode = true, st.ExitCode
	}
	if st.Error != "" {
		e.Reason += " (" + st.Error + ")"
	}
	o.emit(Event{Service: name, Name: "host", Status: "Error", Detail: reason, Level: Error})
	return e
}

// stopHosts stops the named host services, dependants first, reporting
// kills (up --remove-orphans).
func (o *Orchestrator) stopHosts(ctx context.Context, p *compose.Project, names []string) error {
	pl := &Plan{Project: p.Name()}
	o.hostStops(pl, p, names)
	return o.execute(ctx, p, pl)
}

// hostsToStop are the host services named, or, when none are (nil), all
// those hostsWithState names.
func (o *Orchestrator) hostsToStop(p *compose.Project, names []string) []string {
	if names == nil {
		return o.hostsWithState(p)
	}
	return names
}

// hostsWithState are the host services down stops: every one devenv has
// state for (the forward aside: it is stopped on its own) and every one
// the file runs.
func (o *Orchestrator) hostsWithState(p *compose.Project) []string {
	if o.Hosts == nil {
		return nil
	}
	names := slices.DeleteFunc(o.Hosts.Names(p.Name()), forward.IsName)
	for _, n := range plan.ManagedHosts(p, nil) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

type orphanHost struct {
	name string
	pid  int
}

// orphanHosts are host services of the project that devenv runs but the
// file no longer declares with a command (removed or renamed): running,
// and invisible to everything that reads the file.
func (o *Orchestrator) orphanHosts(p *compose.Project) []orphanHost {
	if o.Hosts == nil {
		return nil
	}
	var out []orphanHost
	for _, name := range o.Hosts.Names(p.Name()) {
		if forward.IsName(name) {
			continue
		}
		if h, declared := p.X.Host[name]; declared && h.Managed() {
			continue
		}
		st, alive := o.Hosts.Status(p.Name(), name)
		if alive && (st.ProjectDir == "" || sameDir(st.ProjectDir, p.Dir())) {
			out = append(out, orphanHost{name: name, pid: st.PID})
		}
	}
	return out
}

// upOrphanHosts warns about orphan host services, or stops them with
// --remove-orphans, as up treats orphan containers.
func (o *Orchestrator) upOrphanHosts(ctx context.Context, p *compose.Project, remove bool) error {
	orphans := o.orphanHosts(p)
	if !remove {
		for _, h := range orphans {
			o.warn(h.name, fmt.Sprintf("orphan host service %s (pid %d) is not in the compose file and still runs; --remove-orphans stops it", h.name, h.pid))
		}
		return nil
	}
	names := []string{}
	for _, h := range orphans {
		names = append(names, h.name)
	}
	if len(names) == 0 {
		return nil
	}
	return o.stopHosts(ctx, p, names)
}

// behindProxy is what a host service needs to work behind its name, for
// each variable its env does not set: NODE_EXTRA_CA_CERTS, so Node trusts
// devenv's CA besides the system's (a server-side fetch of another
// service's name); for Phoenix, PHX_HOST, the host its URLs and its
// WebSocket origin check use (read it in config: url: [host: ...]); for
// Vite, the name among its allowed hosts.
func behindProxy(h compose.HostService, name string, ph compose.Placeholders, ca string) []string {
	var out []string
	set := func(k, v string) {
		if _, given := h.Env[k]; !given && v != "" {
			out = append(out, k+"="+v)
		}
	}
	host := ""
	if ph.Name != nil {
		host = ph.Name(name)
	}
	if host == "" {
		return nil
	}
	set("NODE_EXTRA_CA_CERTS", ca)
	role := h.Role
	if role == "" {
		role = compose.Role("", "", name)
	}
	switch role {
	case "phoenix":
		set("PHX_HOST", host)
	case "vite":
		set("__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS", host)
	}
	return out
}
