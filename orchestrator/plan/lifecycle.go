package plan

import (
	"fmt"
	"slices"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/graph"
)

// The actions of the plans of stop, start, restart, kill, rm and down:
// each step is one call to the engine or to the host-service supervisor.
const (
	ActStop          Action = "stop"
	ActKill          Action = "kill"
	ActRemove        Action = "remove"
	ActRemoveNetwork Action = "remove network"
	ActRemoveVolume  Action = "remove volume"
	ActRemoveImage   Action = "remove image"
	ActStopHost      Action = "stop host"
	// ActForgetHost clears the state a host service that no longer runs
	// left behind.
	ActForgetHost     Action = "forget host"
	ActSignalHost     Action = "signal host"
	ActStopForward    Action = "stop forward"
	ActRemoveRelay    Action = "remove relay"
	ActRestoreForward Action = "restore forward"
)

// Add appends s to the plan and returns its index, for later steps' After.
func (p *Plan) Add(s Step) int {
	p.Steps = append(p.Steps, s)
	return len(p.Steps) - 1
}

// Stops adds a stop step for each running container of cs: a container
// stops after every container of the services that depend on it (as the
// file or, for services it does not declare, the containers' labels say),
// and after the steps in after. It returns the steps' indices.
func Stops(plan *Plan, p *compose.Project, cs []Container, timeout *time.Duration, after []int) []int {
	deps := Dependents(p, cs)
	// Dependents first, so the plan reads in the order it runs.
	nodes := serviceNames(cs)
	order := graph.New(nodes, func(s string) []string { return deps[s] }).Order(nodes)
	byService := map[string][]int{}
	var added []int
	for _, svc := range order {
		for _, c := range cs {
			if c.Labels[LabelService] != svc || !IsUp(c) {
				continue
			}
			wait, signal := StopSettings(p, svc, timeout)
			i := plan.Add(Step{Action: ActStop, Service: svc, Name: c.Name, Existing: &c, Signal: signal, Timeout: wait,
				Reason: stopReason(signal, wait), After: slices.Clone(after)})
			byService[svc] = append(byService[svc], i)
			added = append(added, i)
		}
	}
	// Every step is in place: now the edges, whatever the order above.
	for _, i := range added {
		s := &plan.Steps[i]
		for _, d := range deps[s.Service] {
			if d != s.Service {
				s.After = append(s.After, byService[d]...)
			}
		}
	}
	return added
}

func stopReason(signal string, wait time.Duration) string {
	if signal == "" {
		signal = "SIGTERM"
	}
	return fmt.Sprintf("%s, SIGKILL after %s", signal, wait)
}

// isUp tells a container that stop has something to stop.
func IsUp(c Container) bool {
	return c.State == "running" || c.State == "restarting" || c.State == "paused"
}

// serviceNames are the services of cs, sorted, each once.
func serviceNames(cs []Container) []string {
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c.Labels[LabelService]] = true
	}
	return sortedKeys(seen)
}

// HostStops adds the steps that stop host services names, each after the
// stops of the host services among names that depend on it; one that no
// longer runs has its state cleared. It returns the steps' indices.
func HostStops(plan *Plan, p *compose.Project, names []string, running func(string) bool) []int {
	order := HostOrder(p, names)
	dependents := HostGraph(p).Dependents()
	stepOf := map[string]int{}
	var added []int
	for i := len(order) - 1; i >= 0; i-- {
		name := order[i]
		s := Step{Action: ActStopHost, Service: name}
		for _, d := range dependents[name] {
			if j, ok := stepOf[d]; ok {
				s.After = append(s.After, j)
			}
		}
		if !running(name) {
			s.Action, s.Reason = ActForgetHost, "not running"
		} else {
			h := p.X.Host[name]
			s.Timeout = 10 * time.Second
			if h.StopGracePeriod != "" {
				s.Timeout, _ = time.ParseDuration(h.StopGracePeriod)
			}
			s.Signal = h.StopSignal
			s.Reason = stopReason(s.Signal, s.Timeout)
		}
		stepOf[name] = plan.Add(s)
		added = append(added, stepOf[name])
	}
	return added
}

// Starts adds a start step for each container of cs that want picks,
// dependencies first, after the steps in after; leftovers an interrupted
// recreate renamed aside stay stopped.
func Starts(plan *Plan, p *compose.Project, cs []Container, want func(Container) bool, after []int) []int {
	byService := map[string][]int{}
	var added []int
	for _, svc := range StartOrder(p, serviceNames(cs)) {
		for _, c := range cs {
			if c.Labels[LabelService] != svc || IsLeftover(c) || !want(c) {
				continue
			}
			s := Step{Action: ActStart, Service: svc, Name: c.Name, Existing: &c, After: slices.Clone(after)}
			for dep := range p.Model.Services[svc].DependsOn {
				s.After = append(s.After, byService[dep]...)
			}
			i := plan.Add(s)
			byService[svc] = append(byService[svc], i)
			added = append(added, i)
		}
	}
	return added
}

// StartAgain adds the second half of start and restart: the
// containers want picks, then the remote engine's forward, then the host
// services, one at a time.
func StartAgain(plan *Plan, p *compose.Project, cs []Container, hosts []string, want func(Container) bool, after []int, forwarded bool) {
	starts := Starts(plan, p, cs, want, after)
	last := append(slices.Clone(after), starts...)
	if forwarded {
		last = []int{plan.Add(Step{Action: ActRestoreForward, Name: p.Name(), After: last})}
	}
	for _, h := range HostOrder(p, hosts) {
		last = []int{plan.Add(Step{Action: ActStartHost, Service: h, After: last, Wait: HostNeededHealthy(p, h, hosts)})}
	}
}

// Removes adds a remove step for each container, after its own stop among
// stops and after the steps in after; it returns the steps' indices.
func Removes(plan *Plan, cs []Container, volumes bool, stops, after []int) []int {
	stopOf := map[string]int{}
	for _, i := range stops {
		stopOf[plan.Steps[i].Existing.ID] = i
	}
	var added []int
	for _, c := range cs {
		s := Step{Action: ActRemove, Service: c.Labels[LabelService], Name: c.Name, Existing: &c, Volumes: volumes}
		if volumes {
			s.Reason = "with its anonymous volumes"
		}
		s.After = slices.Clone(after)
		if i, ok := stopOf[c.ID]; ok {
			s.After = append(s.After, i)
		}
		added = append(added, plan.Add(s))
	}
	return added
}

// downVolumes are the volumes down -v removes, among those on the engine
// labelled for the project.
func DownVolumes(p *compose.Project, have []Volume) []string {
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

// downImages are the images down --rmi removes, each with the service
// that named it first: all, every service's image; local, those built
// under compose's own name (no image: of their own), as compose's --rmi
// local.
func DownImages(p *compose.Project, which string) [][2]string {
	if which != "all" && which != "local" {
		return nil
	}
	var out [][2]string
	seen := map[string]bool{}
	for _, name := range p.Model.ServiceNames() {
		svc := p.Model.Services[name]
		img := svc.Image
		if which == "local" {
			img = ""
			if svc.Image == "" && svc.Build != nil {
				img = ImageName(p.Name(), svc)
			}
		} else if img == "" && svc.Build != nil {
			img = ImageName(p.Name(), svc)
		}
		if img == "" || seen[img] {
			continue
		}
		seen[img] = true
		out = append(out, [2]string{name, img})
	}
	return out
}

func StopSettings(p *compose.Project, svc string, timeout *time.Duration) (time.Duration, string) {
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
