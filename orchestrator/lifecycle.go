package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"github.com/devenv-dev/devenv/internal/errdefs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// DownOptions are the flags of `down`.
type DownOptions struct {
	Timeout       *time.Duration
	Volumes       bool
	RemoveOrphans bool
	// RemoveImages is compose's --rmi: "all" removes the services' images,
	// "local" those without an image: name (none: devenv does not build).
	RemoveImages string
}

// StopOptions are the flags of `stop` and `restart`.
type StopOptions struct {
	Services []string
	Timeout  *time.Duration
}

// Down stops the project's containers in reverse dependency order, in
// parallel where possible, removes them and the project's networks, and
// removes volumes only when asked: with a compose file, the file's own
// volumes that are not external and not used only by inactive services
// (what docker compose down -v removes); by name alone (-p NAME), every
// volume labelled for the project. Only resources carrying the project's
// label are touched, and never those of a same-named project in another
// directory.
func (o *Orchestrator) Down(ctx context.Context, p *compose.Project, opts DownOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	obs, err := Observe(ctx, o.Engine, p.Name(), false)
	if err != nil {
		return err
	}
	if err := o.checkSameDir(p, append(slices.Clone(obs.Containers), obs.OneOffs...)); err != nil {
		return err
	}
	// Host services depend on the containers: they stop first, all of
	// them, so no process of the project is left.
	if err := o.stopHosts(ctx, p, nil); err != nil {
		return err
	}
	if err := o.stopForwards(ctx, p.Name()); err != nil {
		return err
	}
	var targets []Container
	for _, c := range obs.Containers {
		// Without a compose file (-p NAME), every container of the project
		// is the project's.
		if p.Declares(c.Labels[LabelService]) || opts.RemoveOrphans || len(p.Files) == 0 {
			targets = append(targets, c)
		} else {
			o.warn(c.Labels[LabelService], fmt.Sprintf("orphan container %s left in place; --remove-orphans removes it", c.Name))
		}
	}
	// One-off containers (run) go with the project, as in compose.
	targets = append(targets, obs.OneOffs...)
	if err := o.stopOrdered(ctx, p, targets, opts.Timeout); err != nil {
		return err
	}
	if err := o.removeContainers(ctx, targets, opts.Volumes); err != nil {
		return err
	}
	if err := o.removeRelay(ctx, p); err != nil {
		return err
	}
	for _, n := range obs.Networks {
		if n.Labels[LabelProject] != p.Name() {
			continue
		}
		o.emit(Event{Name: n.Name, Status: "Removing"})
		if err := o.Engine.RemoveNetwork(ctx, n.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remove network %s: %w", n.Name, err)
		}
		o.emit(Event{Name: n.Name, Status: "Removed"})
	}
	o.removeImages(ctx, p, opts.RemoveImages)
	if !opts.Volumes {
		return nil
	}
	for _, v := range downVolumes(p, obs.Volumes) {
		o.emit(Event{Name: v, Status: "Removing"})
		if err := o.Engine.RemoveVolume(ctx, v); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remove volume %s: %w", v, err)
		}
		o.emit(Event{Name: v, Status: "Removed"})
	}
	return nil
}

func (o *Orchestrator) removeContainers(ctx context.Context, targets []Container, withVolumes bool) error {
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Removing"})
			if err := o.Engine.Remove(ctx, c.ID, withVolumes); err != nil && !errors.Is(err, ErrNotFound) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("remove %s: %w", c.Name, err))
				mu.Unlock()
				return
			}
			o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Removed"})
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return ctx.Err()
}

// downVolumes are the volumes down -v removes, among those on the engine
// labelled for the project.
func downVolumes(p *compose.Project, have []Volume) []string {
	labelled := map[string]bool{}
	var all []string
	for _, v := range have {
		if v.Labels[LabelProject] == p.Name() {
			labelled[v.Name] = true
			all = append(all, v.Name)
		}
	}
	if len(p.Files) == 0 {
		return all
	}
	var out []string
	for _, key := range sortedKeys(p.Model.Volumes) {
		v := p.Model.Volumes[key]
		if bool(v.External) || !labelled[v.Name] || !p.VolumeInUse(key) {
			continue
		}
		out = append(out, v.Name)
	}
	return out
}

// WrongDirError is a project name whose containers or host services belong
// to a project in another directory; devenv refuses to act on them.
type WrongDirError struct {
	Project, Dir, Other string
	// What is the resource found: "container NAME" or "host service NAME
	// (pid N)".
	What string
}

func (e *WrongDirError) Error() string {
	return fmt.Sprintf("project %s here (%s) is also the name of a project in another directory (%s, its %s); devenv leaves it alone: run devenv there, or pick another name here with -p", e.Project, e.Dir, e.Other, e.What)
}

func (e *WrongDirError) Unwrap() error { return errdefs.ErrInvalid }

// checkSameDir refuses containers and host services that carry the
// project's name but another directory: a same-named project elsewhere.
// Without a compose file (-p NAME) there is no directory to compare. A
// directory that is gone from this machine is the project's old place,
// moved here; on a remote engine it may as well be another machine's
// project sharing the engine, so it is refused there.
func (o *Orchestrator) checkSameDir(p *compose.Project, cs []Container) error {
	if len(p.Files) == 0 {
		return nil
	}
	for _, c := range cs {
		wd := c.Labels[LabelWorkingDir]
		if _, err := os.Stat(wd); err != nil && o.Remote == nil {
			continue // the project moved here from a directory that is gone
		}
		if wd != "" && !sameDir(wd, p.Dir()) {
			return &WrongDirError{Project: p.Name(), Dir: p.Dir(), Other: wd, What: "container " + c.Name}
		}
	}
	return o.checkHostsSameDir(p)
}

// checkHostsSameDir is checkSameDir for host services: their state is kept
// by project name, so a running one started from another directory is that
// project's. State recorded without a directory (an older devenv) is taken
// as this project's.
func (o *Orchestrator) checkHostsSameDir(p *compose.Project) error {
	if o.Hosts == nil || len(p.Files) == 0 {
		return nil
	}
	for _, name := range o.Hosts.Names(p.Name()) {
		st, alive := o.Hosts.Status(p.Name(), name)
		if !alive || st.ProjectDir == "" || sameDir(st.ProjectDir, p.Dir()) {
			continue
		}
		if _, err := os.Stat(st.ProjectDir); err != nil {
			continue // moved here
		}
		return &WrongDirError{Project: p.Name(), Dir: p.Dir(), Other: st.ProjectDir, What: fmt.Sprintf("host service %s (pid %d)", name, st.PID)}
	}
	return nil
}

func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

// Stop stops the selected services' containers, keeping them.
func (o *Orchestrator) Stop(ctx context.Context, p *compose.Project, opts StopOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	if err := o.stopHosts(ctx, p, hosts); err != nil {
		return err
	}
	if len(opts.Services) == 0 {
		if err := o.stopForwards(ctx, p.Name()); err != nil {
			return err
		}
	}
	return o.stopOrdered(ctx, p, containers, opts.Timeout)
}

// Start starts existing containers of the selected services in dependency
// order; it creates nothing (as compose's start). Host services with a
// command start after them.
func (o *Orchestrator) Start(ctx context.Context, p *compose.Project, opts StartOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	if len(containers) == 0 && len(hosts) == 0 {
		return &compose.ConfigError{File: p.MainFile(), Msg: "no containers to start; run devenv up first"}
	}
	if err := o.startInOrder(ctx, p, containers, func(c Container) bool { return c.State != "running" }); err != nil {
		return err
	}
	if err := o.restoreForwards(ctx, p); err != nil {
		return err
	}
	if err := o.startHosts(ctx, p, hosts); err != nil {
		return err
	}
	if !opts.Wait {
		return nil
	}
	return o.waitStarted(ctx, p, containers, opts.WaitTimeout)
}

// StartOptions are the flags of `start`.
type StartOptions struct {
	Services []string
	// Wait returns once the containers run and pass their healthchecks,
	// within WaitTimeout (default 2 minutes).
	Wait        bool
	WaitTimeout time.Duration
}

// waitStarted waits, in parallel, for each container of the file's
// services to run and be healthy.
func (o *Orchestrator) waitStarted(ctx context.Context, p *compose.Project, cs []Container, timeout time.Duration) error {
	d, err := BuildDesired(p, nil, o.Version)
	if err != nil {
		return err
	}
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	// Services others wait on to complete (migrations) are waited for
	// until they exit 0, as compose does.
	oneShot := map[string]bool{}
	for _, ds := range d.Services {
		for dep, cfg := range ds.DependsOn {
			if cfg.Condition == "service_completed_successfully" {
				oneShot[dep] = true
			}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(cs))
	for i, c := range cs {
		ds, ok := d.Services[c.Labels[LabelService]]
		if !ok || isLeftover(c) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if oneShot[ds.Name] {
				errs[i] = o.waitCompleted(wctx, ctx, ds.Name, c.ID)
				return
			}
			// The container's own healthcheck decides, not the file's now.
			ds := *ds
			ds.HasHealthcheck = false
			errs[i] = o.waitReady(wctx, ctx, &ds, c.ID, false)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Restart stops the selected services, then starts the same containers in
// dependency order. It starts what it stopped without asking the engine
// again: a current engine may still list a container as running right
// after its stop returned.
func (o *Orchestrator) Restart(ctx context.Context, p *compose.Project, opts StopOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	if len(containers) == 0 && len(hosts) == 0 {
		return &compose.ConfigError{File: p.MainFile(), Msg: "no containers to restart; run devenv up first"}
	}
	if err := o.stopHosts(ctx, p, hosts); err != nil {
		return err
	}
	if err := o.stopOrdered(ctx, p, containers, opts.Timeout); err != nil {
		return err
	}
	if err := o.startInOrder(ctx, p, containers, func(Container) bool { return true }); err != nil {
		return err
	}
	if err := o.restoreForwards(ctx, p); err != nil {
		return err
	}
	return o.startHosts(ctx, p, hosts)
}

// selectLifecycle is the containers and the host services (with a command)
// a stop, start or restart acts on: all when none are named.
func (o *Orchestrator) selectLifecycle(ctx context.Context, p *compose.Project, services []string) ([]Container, []string, error) {
	named, namedHosts := splitServices(p, services)
	hosts := managedHosts(p, namedHosts)
	if len(services) > 0 && len(namedHosts) == 0 {
		hosts = []string{}
	}
	if len(services) > 0 && len(named) == 0 {
		return nil, hosts, o.checkHostsSameDir(p)
	}
	cs, err := o.selectContainers(ctx, p, named)
	return cs, hosts, err
}

// startHosts starts host services with the ports the registry holds,
// without waiting for their health (as start does for containers).
func (o *Orchestrator) startHosts(ctx context.Context, p *compose.Project, hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	ports, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return err
	}
	return o.upHosts(ctx, p, ports, hosts, UpOptions{NoWait: true})
}

// startInOrder starts every container (for which want holds) of each
// service, dependencies first; leftovers an interrupted recreate renamed
// aside stay stopped.
func (o *Orchestrator) startInOrder(ctx context.Context, p *compose.Project, cs []Container, want func(Container) bool) error {
	byService := map[string][]Container{}
	for _, c := range cs {
		if !isLeftover(c) {
			byService[c.Labels[LabelService]] = append(byService[c.Labels[LabelService]], c)
		}
	}
	for _, s := range startOrder(p, sortedKeys(byService)) {
		for _, c := range byService[s] {
			if !want(c) {
				continue
			}
			if err := o.startContainer(ctx, s, c.Name, c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// isLeftover recognises the name recreate gives the old container while it
// swaps in the new one: 12 hex digits, an underscore, the name.
func isLeftover(c Container) bool {
	prefix, _, ok := strings.Cut(c.Name, "_")
	return ok && len(prefix) == 12 && strings.HasPrefix(c.ID, prefix)
}

func (o *Orchestrator) selectContainers(ctx context.Context, p *compose.Project, services []string) ([]Container, error) {
	sel, err := p.SelectServices(services)
	if err != nil {
		return nil, err
	}
	obs, err := Observe(ctx, o.Engine, p.Name(), false)
	if err != nil {
		return nil, err
	}
	if err := o.checkSameDir(p, obs.Containers); err != nil {
		return nil, err
	}
	var out []Container
	for _, c := range obs.Containers {
		if slices.Contains(sel, c.Labels[LabelService]) || (len(p.Files) == 0 && len(services) == 0) {
			out = append(out, c)
		}
	}
	return out, nil
}

// startOrder sorts services so that dependencies come first.
func startOrder(p *compose.Project, services []string) []string {
	return dependencyOrder(services, func(s string) []string {
		if svc, ok := p.Model.Services[s]; ok {
			return sortedKeys(svc.DependsOn)
		}
		return nil
	})
}

// dependencyOrder sorts names so that each comes after those of its deps
// that are among names.
func dependencyOrder(names []string, deps func(string) []string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		for _, dep := range deps(s) {
			if slices.Contains(names, dep) {
				visit(dep)
			}
		}
		out = append(out, s)
	}
	for _, s := range names {
		visit(s)
	}
	return out
}

// dependents maps each service to the services that depend on it: the
// model's depends_on for the services the file declares, the containers'
// depends_on labels for the others (compose-made containers, -p NAME).
// Edges that would close a cycle are dropped, so stopping never deadlocks.
func dependents(p *compose.Project, cs []Container) map[string][]string {
	deps := map[string][]string{} // service -> what it depends on
	for name, svc := range p.Model.Services {
		deps[name] = sortedKeys(svc.DependsOn)
	}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		if _, inModel := p.Model.Services[svc]; inModel {
			continue
		}
		for _, part := range strings.Split(c.Labels[LabelDependsOn], ",") {
			if dep, _, _ := strings.Cut(part, ":"); dep != "" && !slices.Contains(deps[svc], dep) {
				deps[svc] = append(deps[svc], dep)
			}
		}
	}
	out := map[string][]string{}
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var visit func(string)
	visit = func(s string) {
		state[s] = 1
		for _, dep := range deps[s] {
			if state[dep] == 1 || dep == s {
				continue // a cycle: drop this edge
			}
			out[dep] = append(out[dep], s)
			if state[dep] == 0 {
				visit(dep)
			}
		}
		state[s] = 2
	}
	for _, s := range sortedKeys(deps) {
		if state[s] == 0 {
			visit(s)
		}
	}
	return out
}

// stopOrdered stops each container once everything depending on it has
// stopped; independent containers stop in parallel. Waits end with ctx.
func (o *Orchestrator) stopOrdered(ctx context.Context, p *compose.Project, cs []Container, timeout *time.Duration) error {
	deps := dependents(p, cs)
	// A service counts as stopped once all its containers are (a leftover
	// of an interrupted recreate, or a compose --scale project, has more
	// than one).
	left := map[string]*sync.WaitGroup{}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		if left[svc] == nil {
			left[svc] = &sync.WaitGroup{}
		}
		left[svc].Add(1)
	}
	done := map[string]chan struct{}{}
	for svc, wg := range left {
		done[svc] = make(chan struct{})
		go func() { wg.Wait(); close(done[svc]) }()
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, c := range cs {
		svc := c.Labels[LabelService]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer left[svc].Done()
			for _, dependent := range deps[svc] {
				if ch, ok := done[dependent]; ok && dependent != svc {
					select {
					case <-ch:
					case <-ctx.Done():
						return
					}
				}
			}
			if err := o.stopOne(ctx, p, c, timeout); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func (o *Orchestrator) stopOne(ctx context.Context, p *compose.Project, c Container, timeout *time.Duration) error {
	if c.State != "running" && c.State != "restarting" && c.State != "paused" {
		return nil
	}
	svc := c.Labels[LabelService]
	wait, signal := o.stopSettings(p, svc, timeout)
	o.emit(Event{Service: svc, Name: c.Name, Status: "Stopping"})
	killed, err := o.Engine.Stop(ctx, c.ID, signal, wait)
	if err != nil {
		return fmt.Errorf("stop %s: %w", c.Name, err)
	}
	if killed {
		o.emit(Event{Service: svc, Name: c.Name, Status: "Killed", Detail: fmt.Sprintf("did not stop within %s; sent SIGKILL", wait), Level: Warn})
		return nil
	}
	o.emit(Event{Service: svc, Name: c.Name, Status: "Stopped"})
	return nil
}

func (o *Orchestrator) stopSettings(p *compose.Project, svc string, timeout *time.Duration) (time.Duration, string) {
	wait, signal := 10*time.Second, ""
	if s, ok := p.Model.Services[svc]; ok {
		if s.StopGracePeriod != nil {
			wait = time.Duration(*s.StopGracePeriod)
		}
		signal = s.StopSignal
	}
	if timeout != nil {
		wait = *timeout
	}
	return wait, signal
}
