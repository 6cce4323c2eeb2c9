package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"golang.org/x/sync/errgroup"
)

// UpOptions are the flags of `up`.
type UpOptions struct {
	Services      []string
	NoDeps        bool
	ForceRecreate bool
	RemoveOrphans bool
	NoWait        bool
	WaitTimeout   time.Duration
	Pull          string
	Ports         PortOptions
	// DryRun plans and returns without changing anything.
	DryRun bool
}

// UpResult says what up did.
type UpResult struct {
	Plan  *Plan
	Ports *PortResult
}

// ServiceError is a service that failed to start or become healthy.
type ServiceError struct {
	Service  string
	Reason   string
	ExitCode int
	Exited   bool
	Health   string
	Logs     string
}

func (e *ServiceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s %s", e.Service, e.Reason)
	if e.Exited {
		fmt.Fprintf(&b, " (exit code %d)", e.ExitCode)
	}
	if e.Health != "" {
		fmt.Fprintf(&b, "; last health check output: %s", oneLine(e.Health))
	}
	if e.Logs != "" {
		fmt.Fprintf(&b, "\nlast log lines of %s:\n%s", e.Service, strings.TrimRight(e.Logs, "\n"))
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Up reconciles ports, then creates what is missing, recreates what changed,
// starts what is stopped in dependency order, and waits for health.
func (o *Orchestrator) Up(ctx context.Context, p *compose.Project, opts UpOptions) (*UpResult, error) {
	selected, err := p.SelectServices(opts.Services)
	if err != nil {
		return nil, err
	}
	// Everything that can be found wrong is found before the first change.
	if err := o.Engine.Ping(ctx); err != nil {
		return nil, err
	}
	// First pass: reconcile without writing, plan, and find every conflict,
	// bad input and missing image before anything changes.
	preview := opts.Ports
	preview.DryRun, preview.Probe = true, true
	ports, err := o.ReconcilePorts(ctx, p, preview)
	if err != nil {
		return nil, err
	}
	d, services, plan, err := o.planUp(ctx, p, ports, selected, opts)
	if err != nil {
		return nil, err
	}
	res := &UpResult{Plan: plan, Ports: ports}
	if opts.DryRun {
		return res, nil
	}
	if err := o.pull(ctx, plan); err != nil {
		return res, err
	}
	// Now reserve for real, under the registry lock. Another devenv may
	// have taken a port since the first pass; then plan again.
	committed, err := o.ReconcilePorts(ctx, p, opts.Ports)
	if err != nil {
		return res, err
	}
	if !sameBindings(ports.Bindings, committed.Bindings) {
		if d, services, plan, err = o.planUp(ctx, p, committed, selected, opts); err != nil {
			return res, err
		}
	}
	res.Ports, res.Plan = committed, plan
	for _, m := range committed.Remaps {
		o.emit(Event{Service: m.Service, Status: "Port", Detail: m.String(), Level: Warn})
	}
	for _, w := range committed.Warnings {
		o.warn("", w)
	}
	if err := o.apply(ctx, d, plan, services, opts); err != nil {
		return res, err
	}
	o.warnEnvDrift(p, committed)
	return res, nil
}

func (o *Orchestrator) planUp(ctx context.Context, p *compose.Project, ports *PortResult, selected []string, opts UpOptions) (*Desired, []string, *Plan, error) {
	d, err := BuildDesired(p, ports.Bindings, o.Version)
	if err != nil {
		return nil, nil, nil, err
	}
	services := Closure(d, selected, opts.NoDeps)
	obs, err := Observe(ctx, o.Engine, d.Project, true)
	if err != nil {
		return nil, nil, nil, err
	}
	d.ImageIDs = obs.Images
	if err := o.findForeign(ctx, d, obs, services); err != nil {
		return nil, nil, nil, err
	}
	known := append(p.Model.ServiceNames(), sortedKeys(p.Model.DisabledServices)...)
	plan, err := PlanUp(d, obs, PlanOptions{Services: services, ForceRecreate: opts.ForceRecreate, RemoveOrphans: opts.RemoveOrphans, Pull: opts.Pull, Known: known})
	if err != nil {
		return nil, nil, nil, err
	}
	return d, services, plan, nil
}

func sameBindings(a, b Bindings) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if portsLabel(v) != portsLabel(b[k]) {
			return false
		}
	}
	return true
}

// findForeign records containers that hold a name devenv is about to use
// without this project's labels.
func (o *Orchestrator) findForeign(ctx context.Context, d *Desired, obs *Observed, services []string) error {
	var names []string
	for _, s := range services {
		if _, ok := obs.ServiceContainer(s); !ok {
			names = append(names, d.Services[s].Spec.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	cs, err := o.Engine.Containers(ctx, ListFilter{Names: names, All: true})
	if err != nil {
		return err
	}
	for _, c := range cs {
		for _, n := range names {
			if c.Name == n && c.Labels[LabelProject] != d.Project {
				obs.Foreign[n] = c
			}
		}
	}
	return nil
}

// serviceState is what dependants wait on.
type serviceState struct {
	started   chan struct{}
	ready     chan struct{}
	completed chan struct{}
	mu        sync.Mutex
	err       error
	id        string
}

func (s *serviceState) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *serviceState) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// pull fetches the plan's images; a failed pull leaves nothing created.
func (o *Orchestrator) pull(ctx context.Context, plan *Plan) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, s := range plan.Steps {
		if s.Action != ActPull {
			continue
		}
		g.Go(func() error {
			o.emit(Event{Service: s.Service, Name: s.Name, Status: "Pulling"})
			if err := o.Engine.Pull(gctx, s.Name); err != nil {
				return fmt.Errorf("service %s: pull image %s: %w", s.Service, s.Name, err)
			}
			o.emit(Event{Service: s.Service, Name: s.Name, Status: "Pulled"})
			return nil
		})
	}
	return g.Wait()
}

func (o *Orchestrator) apply(ctx context.Context, d *Desired, plan *Plan, services []string, opts UpOptions) error {
	if err := o.labelImages(ctx, d, plan, services); err != nil {
		return err
	}
	for _, s := range plan.Steps {
		var err error
		switch s.Action {
		case ActCreateNetwork:
			for _, n := range d.Networks {
				if n.Spec.Name == s.Name {
					o.emit(Event{Name: s.Name, Status: "Creating"})
					_, err = o.Engine.CreateNetwork(ctx, n.Spec)
					o.emit(Event{Name: s.Name, Status: "Created"})
				}
			}
		case ActCreateVolume:
			for _, v := range d.Volumes {
				if v.Spec.Name == s.Name {
					o.emit(Event{Name: s.Name, Status: "Creating"})
					err = o.Engine.CreateVolume(ctx, v.Spec)
					o.emit(Event{Name: s.Name, Status: "Created"})
				}
			}
		case ActRemoveOrphan:
			o.emit(Event{Service: s.Service, Name: s.Name, Status: "Removing", Detail: "orphan"})
			if _, err = o.Engine.Stop(ctx, s.Existing.ID, "", 10*time.Second); err == nil {
				err = o.Engine.Remove(ctx, s.Existing.ID, false)
			}
			o.emit(Event{Service: s.Service, Name: s.Name, Status: "Removed"})
		case ActWarnOrphan:
			o.warn(s.Service, fmt.Sprintf("found orphan container %s for this project; run with --remove-orphans to remove it", s.Name))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return o.startAll(ctx, d, plan, services, opts)
}

// labelImages records each image's ID in com.docker.compose.image, as
// compose does, so either tool sees when an image changed.
func (o *Orchestrator) labelImages(ctx context.Context, d *Desired, plan *Plan, services []string) error {
	pulled := map[string]bool{}
	for _, s := range plan.Steps {
		if s.Action == ActPull {
			pulled[NormalizeRef(s.Name)] = true
		}
	}
	ids := map[string]string{}
	for _, name := range services {
		ds := d.Services[name]
		ref := NormalizeRef(ds.Spec.Image)
		id, ok := ids[ref]
		if !ok {
			id, ok = d.ImageIDs[ref]
			if !ok || pulled[ref] {
				im, err := o.Engine.ImageInspect(ctx, ds.Spec.Image)
				if err != nil {
					return fmt.Errorf("service %s: image %s: %w", name, ds.Spec.Image, err)
				}
				id = im.ID
			}
			ids[ref] = id
		}
		ds.Spec.Labels[LabelImage] = id
	}
	return nil
}

func (o *Orchestrator) startAll(ctx context.Context, d *Desired, plan *Plan, services []string, opts UpOptions) error {
	states := map[string]*serviceState{}
	for _, s := range services {
		states[s] = &serviceState{started: make(chan struct{}), ready: make(chan struct{}), completed: make(chan struct{})}
	}
	// A dependency with service_completed_successfully is expected to exit.
	oneShot := map[string]bool{}
	for _, s := range services {
		for dep, cfg := range d.Services[s].DependsOn {
			if cfg.Condition == "service_completed_successfully" {
				oneShot[dep] = true
			}
		}
	}
	timeout := opts.WaitTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(services))
	for i, name := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = o.runService(ctx, wctx, d, plan, name, states, oneShot[name], !opts.NoWait)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var out []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, errDependency) {
			out = append(out, err)
		}
	}
	if len(out) == 0 {
		for _, err := range errs {
			if err != nil {
				out = append(out, err)
			}
		}
	}
	return errors.Join(out...)
}

var errDependency = errors.New("dependency failed")

// runService waits for the service's dependencies, brings its container to
// the planned state and reports readiness to its dependants.
func (o *Orchestrator) runService(ctx, wctx context.Context, d *Desired, plan *Plan, name string, states map[string]*serviceState, oneShot, wait bool) error {
	st := states[name]
	ds := d.Services[name]
	for _, dep := range sortedKeys(ds.DependsOn) {
		cfg := ds.DependsOn[dep]
		ds2, ok := states[dep]
		if !ok {
			continue // not selected (--no-deps) or not defined
		}
		var ch chan struct{}
		switch cfg.Condition {
		case "service_healthy":
			ch = ds2.ready
		case "service_completed_successfully":
			ch = ds2.completed
		default:
			ch = ds2.started
		}
		o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Waiting", Detail: fmt.Sprintf("for %s (%s)", dep, cfg.Condition)})
		select {
		case <-ch:
		case <-wctx.Done():
			err := fmt.Errorf("service %s: timed out waiting for %s (%s)", name, dep, cfg.Condition)
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			st.fail(err)
			return err
		}
		if err := ds2.failed(); err != nil {
			if !cfg.Required {
				o.warn(name, fmt.Sprintf("optional dependency %s failed; starting anyway", dep))
				continue
			}
			err := fmt.Errorf("service %s: dependency %s failed: %w", name, dep, errDependency)
			st.fail(err)
			return err
		}
	}
	fail := func(err error) error {
		st.fail(err)
		closeOnce(st.started)
		closeOnce(st.ready)
		closeOnce(st.completed)
		return err
	}
	step, _ := plan.Step(name)
	if step.Action == ActKeep {
		// depends_on with restart: true restarts a kept dependant whose
		// dependency was just recreated or started.
		for _, dep := range sortedKeys(ds.DependsOn) {
			if !ds.DependsOn[dep].Restart {
				continue
			}
			if ds2, ok := plan.Step(dep); ok && (ds2.Action == ActRecreate || ds2.Action == ActStart || ds2.Action == ActCreate) {
				step.Action, step.Reason = ActRestart, "dependency "+dep+" was "+string(ds2.Action)+"d"
				break
			}
		}
	}
	id, err := o.converge(ctx, ds, step)
	if err != nil {
		return fail(err)
	}
	st.id = id
	closeOnce(st.started)
	if !wait && !needsReady(name, d, states) {
		closeOnce(st.ready)
		return nil
	}
	if step.Action == ActKeep && step.Existing.State == "running" && (step.Existing.Health == "healthy" || step.Existing.Health == "") {
		// Unchanged and, per the list we already have, running and healthy
		// (or without healthcheck): no need to ask again.
		closeOnce(st.ready)
		return nil
	}
	if oneShot {
		if err := o.waitCompleted(wctx, ctx, name, id); err != nil {
			return fail(err)
		}
		closeOnce(st.ready)
		closeOnce(st.completed)
		return nil
	}
	if err := o.waitReady(wctx, ctx, ds, id, step.Action == ActKeep); err != nil {
		return fail(err)
	}
	closeOnce(st.ready)
	return nil
}

func needsReady(name string, d *Desired, states map[string]*serviceState) bool {
	for s := range states {
		if cfg, ok := d.Services[s].DependsOn[name]; ok && cfg.Condition != "service_started" && cfg.Condition != "" {
			return true
		}
	}
	return false
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// converge creates, recreates or starts the service's container as planned.
func (o *Orchestrator) converge(ctx context.Context, ds *DesiredService, step Step) (string, error) {
	name := ds.Name
	switch step.Action {
	case ActKeep:
		o.emit(Event{Service: name, Name: step.Name, Status: "Running"})
		return step.Existing.ID, nil
	case ActStart:
		o.emit(Event{Service: name, Name: step.Name, Status: "Starting"})
		if err := o.Engine.Start(ctx, step.Existing.ID); err != nil {
			return "", fmt.Errorf("service %s: start %s: %w", name, step.Name, err)
		}
		o.emit(Event{Service: name, Name: step.Name, Status: "Started"})
		return step.Existing.ID, nil
	case ActCreate:
		o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Creating"})
		id, err := o.Engine.Create(ctx, ds.Spec)
		if err != nil {
			if id != "" {
				_ = o.Engine.Remove(context.WithoutCancel(ctx), id, false)
			}
			return "", fmt.Errorf("service %s: create container %s: %w", name, ds.Spec.Name, err)
		}
		o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Created"})
		return o.start(ctx, name, ds.Spec.Name, id)
	case ActRecreate:
		return o.recreate(ctx, ds, step)
	case ActRestart:
		o.emit(Event{Service: name, Name: step.Name, Status: "Restarting", Detail: step.Reason})
		if _, err := o.Engine.Stop(ctx, step.Existing.ID, ds.Spec.StopSignal, ds.StopTimeout); err != nil {
			return "", fmt.Errorf("service %s: stop %s: %w", name, step.Name, err)
		}
		return o.start(ctx, name, step.Name, step.Existing.ID)
	}
	return "", fmt.Errorf("service %s: nothing planned", name)
}

func (o *Orchestrator) start(ctx context.Context, service, cname, id string) (string, error) {
	o.emit(Event{Service: service, Name: cname, Status: "Starting"})
	if err := o.Engine.Start(ctx, id); err != nil {
		return id, fmt.Errorf("service %s: start %s: %w", service, cname, err)
	}
	o.emit(Event{Service: service, Name: cname, Status: "Started"})
	return id, nil
}

// recreate replaces a container while keeping its anonymous volumes: the
// old one is stopped and renamed aside, the new one created with the old
// anonymous volumes, and only then is the old one removed. If creating
// fails, the old container gets its name back.
func (o *Orchestrator) recreate(ctx context.Context, ds *DesiredService, step Step) (string, error) {
	name, old := ds.Name, step.Existing
	o.emit(Event{Service: name, Name: ds.Spec.Name, Status: "Recreating", Detail: step.Reason})
	killed, err := o.Engine.Stop(ctx, old.ID, ds.Spec.StopSignal, ds.StopTimeout)
	if err != nil {
		return "", fmt.Errorf("service %s: stop %s: %w", name, old.Name, err)
	}
	if killed {
		o.warn(name, fmt.Sprintf("container %s did not stop within %s and was killed", old.Name, ds.StopTimeout))
	}
	details, err := o.Engine.Inspect(ctx, old.ID)
	if err != nil {
		return "", fmt.Errorf("service %s: inspect %s: %w", name, old.Name, err)
	}
	aside := shortID(old.ID) + "_" + old.Name
	if err := o.Engine.Rename(ctx, old.ID, aside); err != nil {
		return "", fmt.Errorf("service %s: rename %s: %w", name, old.Name, err)
	}
	spec := ds.Spec
	spec.Mounts = carryAnonymous(spec.Mounts, details.Mounts)
	id, err := o.Engine.Create(ctx, spec)
	if err != nil {
		bg := context.WithoutCancel(ctx)
		if id != "" {
			_ = o.Engine.Remove(bg, id, false)
		}
		_ = o.Engine.Rename(bg, old.ID, old.Name)
		return "", fmt.Errorf("service %s: create container %s: %w", name, spec.Name, err)
	}
	if err := o.Engine.Remove(ctx, old.ID, false); err != nil {
		return "", fmt.Errorf("service %s: remove old container %s: %w", name, aside, err)
	}
	o.emit(Event{Service: name, Name: spec.Name, Status: "Recreated"})
	return o.start(ctx, name, spec.Name, id)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// carryAnonymous gives the new container the old one's anonymous volumes
// (those not named in the spec) at the same paths.
func carryAnonymous(spec []Mount, old []Mount) []Mount {
	out := make([]Mount, 0, len(spec)+len(old))
	covered := map[string]bool{}
	for _, m := range spec {
		covered[m.Target] = true
	}
	oldAt := map[string]Mount{}
	for _, m := range old {
		if m.Type == "volume" && isAnonymous(m.Source) {
			oldAt[m.Target] = m
		}
	}
	for _, m := range spec {
		if m.Type == "volume" && m.Source == "" {
			if om, ok := oldAt[m.Target]; ok {
				m.Source = om.Source
			}
		}
		out = append(out, m)
	}
	for _, m := range old {
		if m.Type == "volume" && isAnonymous(m.Source) && !covered[m.Target] {
			out = append(out, Mount{Type: "volume", Source: m.Source, Target: m.Target})
		}
	}
	return out
}

func isAnonymous(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, r := range name {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

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
