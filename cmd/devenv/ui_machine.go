package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/dashboard"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/docker"
	"github.com/devenv-dev/devenv/orchestrator/process"
	"github.com/docker/go-units"
)

// Machine is the page's picture: ls, then ps -a of each project (four at
// a time), the port map, and what ps leaves out (uptime, restarts, a dead
// service's last lines, the last resource sample).
func (s *uiSource) Machine(ctx context.Context) (*dashboard.Machine, error) {
	rows, refs, err := s.projects(ctx)
	if err != nil {
		return nil, err
	}
	m := &dashboard.Machine{Taken: time.Now(), Projects: make([]dashboard.Project, len(rows))}
	notes := make([]string, len(rows))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, r := range rows {
		m.Projects[i] = dashboard.Project{Name: r.Name, Instance: r.Instance, Status: r.Status, Dir: r.Directory, Engine: r.Engine, URL: r.URL, Services: []dashboard.Service{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			svcs, err := s.services(ctx, refs[refKey(r.Name, r.Engine)])
			if err != nil {
				notes[i] = fmt.Sprintf("%s: %v", r.Name, err)
				return
			}
			m.Projects[i].Services = svcs
		}()
	}
	ports, perr := s.ports(ctx)
	wg.Wait()
	s.prune(m)
	m.Ports = ports
	if perr != nil {
		notes = append(notes, "port map: "+perr.Error())
	}
	for _, n := range notes {
		if n != "" {
			m.Notes = append(m.Notes, n)
		}
	}
	return m, nil
}

// prune forgets what it kept of containers and services no longer on
// the page.
func (s *uiSource) prune(m *dashboard.Machine) {
	seen := map[string]bool{}
	for _, p := range m.Projects {
		seen[p.Name] = true
		for _, svc := range p.Services {
			seen[svc.ID] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.details {
		if !seen[id] {
			delete(s.details, id)
		}
	}
	for key := range s.tails {
		project, rest, _ := strings.Cut(key, "/")
		id, _, _ := strings.Cut(rest, "/")
		if !seen[project] || !seen[id] {
			delete(s.tails, key)
		}
	}
}

// services are ps -a's rows of p, with what ps does not say.
func (s *uiSource) services(ctx context.Context, p *projectRef) ([]dashboard.Service, error) {
	raw, err := s.jsonOf(ctx, p, "ps", "-a", "--format", "json")
	if err != nil {
		return nil, err
	}
	rows, err := decodeRows[psRow](raw)
	if err != nil {
		return nil, err
	}
	out := make([]dashboard.Service, 0, len(rows))
	for _, r := range rows {
		svc := dashboard.Service{Name: r.Service, ID: r.ID, Host: r.Host, State: r.State, Health: r.Health, Status: r.Status, ExitCode: r.ExitCode,
			Restarts: -1, URLs: r.URLs, Connect: !r.Host && r.State == "running"}
		if r.Ports != "" {
			svc.Ports = strings.Split(r.Ports, ", ")
		}
		if r.Host {
			s.hostDetails(ctx, p, &svc)
		} else {
			s.containerDetails(ctx, p, r, &svc)
		}
		s.mu.Lock()
		u := s.usage[refKey(p.name, p.engine)+"/"+svc.Name]
		s.mu.Unlock()
		if svc.State == "running" {
			svc.CPU, svc.Memory = u.cpu, u.mem
		}
		out = append(out, svc)
	}
	return out, nil
}

// hostDetails fills a host service's uptime, restarts, and last lines
// when it died, from its supervisor's state.
func (s *uiSource) hostDetails(_ context.Context, p *projectRef, svc *dashboard.Service) {
	st, ok := s.state.Read(p.name, svc.Name)
	if !ok {
		return
	}
	svc.Restarts = st.Restarts
	if st.Running() {
		svc.Since = st.StartedAt
	}
	if st.Status == "failed" || st.Status == "exited" {
		svc.ExitCode = st.ExitCode
		if st.ExitCode != 0 {
			svc.Tail = strings.Split(strings.TrimRight(process.Tail(s.state.LogPath(p.name, svc.Name), 10), "\n"), "\n")
		}
	}
}

// containerDetails fills a container's uptime and restarts (inspect, once
// per container and state), and a dead one's last lines (logs --tail).
func (s *uiSource) containerDetails(ctx context.Context, p *projectRef, r psRow, svc *dashboard.Service) {
	key := r.ID + "\x00" + r.State + "\x00" + r.Status
	s.mu.Lock()
	d, ok := s.details[r.ID]
	s.mu.Unlock()
	if !ok || d.key != key {
		d = uiDetails{restarts: -1}
		if p.endpoint == "" {
			// Kept only when the engine answered: unknown is asked again.
			if details, err := s.inspect(ctx, r.ID); err == nil {
				d = uiDetails{key: key, started: details.StartedAt, restarts: details.RestartCount}
				s.mu.Lock()
				s.details[r.ID] = d
				s.mu.Unlock()
			}
		}
	}
	if p.endpoint == "" {
		svc.Restarts = d.restarts
	}
	if r.State == "running" || r.State == "restarting" {
		svc.Since = d.started
	}
	if !svc.Crashed() {
		return
	}
	tailKey := p.name + "/" + r.ID + "/" + fmt.Sprint(r.ExitCode)
	s.mu.Lock()
	tail, ok := s.tails[tailKey]
	s.mu.Unlock()
	if !ok {
		var out strings.Builder
		s.cli(ctx, p, &out, "logs", "--tail", "10", "--no-log-prefix", r.Service)
		tail = strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		s.mu.Lock()
		s.tails[tailKey] = tail
		s.mu.Unlock()
	}
	svc.Tail = tail
}

func (s *uiSource) inspect(ctx context.Context, id string) (orchestrator.ContainerDetails, error) {
	eng := s.engine()
	if eng == nil {
		return orchestrator.ContainerDetails{}, orchestrator.ErrEngineUnreachable
	}
	return eng.Inspect(ctx, id)
}

// ports is the port map (ports --format json), with why each moved port
// moved.
func (s *uiSource) ports(ctx context.Context) ([]dashboard.Port, error) {
	raw, err := s.jsonOf(ctx, nil, "ports", "--format", "json")
	if err != nil {
		return nil, err
	}
	rows, err := decodeRows[orchestrator.PortRow](raw)
	if err != nil {
		return nil, err
	}
	out := make([]dashboard.Port, 0, len(rows))
	for _, r := range rows {
		out = append(out, dashboard.Port{Project: r.Project, Instance: r.Instance, Service: r.Service, Host: r.HostService, Role: r.Role,
			HostIP: r.HostIP, Port: r.Port, Requested: r.Requested, Target: r.Target, Protocol: r.Protocol, Holder: r.Holder,
			Conflict: r.Conflict, Engine: r.Engine, URLs: r.URLs})
	}
	return out, nil
}

// sample takes each running service's CPU and memory every 5 s: stats
// --no-stream of each project with running containers, and a host
// service's process group from /proc. A new sample is a change.
func (s *uiSource) sample(ctx context.Context, send func()) {
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Second):
			}
		}
		_, refs, err := s.projects(ctx)
		if err != nil {
			continue
		}
		usage := map[string]uiUsage{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, p := range refs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got := s.sampleProject(ctx, p)
				mu.Lock()
				for k, v := range got {
					usage[k] = v
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		s.mu.Lock()
		changed := fmt.Sprint(usage) != fmt.Sprint(s.usage)
		s.usage = usage
		s.mu.Unlock()
		if changed {
			send()
		}
	}
}

// sampleProject samples p's running containers (on this machine's
// engine: a remote engine's are not sampled) and its host services.
func (s *uiSource) sampleProject(ctx context.Context, p *projectRef) map[string]uiUsage {
	out := map[string]uiUsage{}
	if eng := s.engine(); eng != nil && p.engine == "" {
		cs, _ := eng.Containers(ctx, orchestrator.ListFilter{Labels: []string{orchestrator.LabelProject + "=" + p.name}})
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range cs {
			if c.State != "running" || c.Labels[orchestrator.LabelOneoff] == "True" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := eng.Stats(ctx, c.ID)
				if err != nil {
					return
				}
				mu.Lock()
				out[refKey(p.name, p.engine)+"/"+c.Labels[orchestrator.LabelService]] = uiUsage{cpu: fmt.Sprintf("%.2f%%", st.CPUPercent), mem: units.BytesSize(float64(st.MemUsage))}
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	if p.engine != "" {
		return out // host services run here: sampled with the local entry
	}
	for _, name := range s.state.Names(p.name) {
		ticks, rss, ok := s.state.Usage(p.name, name)
		if !ok {
			continue
		}
		key := refKey(p.name, "") + "/" + name
		now := time.Now()
		s.mu.Lock()
		last, seen := s.ticks[key]
		s.ticks[key] = uiTicks{ticks: ticks, at: now}
		s.mu.Unlock()
		u := uiUsage{mem: units.BytesSize(float64(rss))}
		if seen && ticks >= last.ticks {
			u.cpu = fmt.Sprintf("%.2f%%", float64(ticks-last.ticks)/100/now.Sub(last.at).Seconds()*100)
		}
		out[key] = u
	}
	return out
}

// engine is this machine's engine (nil when it cannot be had).
func (s *uiSource) engine() orchestrator.Engine {
	if s.a.local != nil {
		return s.a.local
	}
	s.engineOnce.Do(func() {
		// The engine the dashboard's commands reach: its environment less
		// what userEnv leaves out.
		kept := env{}
		for _, kv := range userEnv(s.a.env.list()) {
			k, v, _ := strings.Cut(kv, "=")
			kept[k] = v
		}
		if ep, err := docker.Resolve(kept.get); err == nil {
			s.eng, _ = docker.New(ep, nil)
		}
	})
	if s.eng == nil {
		return nil
	}
	return s.eng
}
