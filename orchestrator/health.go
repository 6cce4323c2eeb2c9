package orchestrator

import (
	"context"
	"net"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// HealthRow is one check of `health`.
type HealthRow struct {
	Project   string `json:"project"`
	Service   string `json:"service"`
	Kind      string `json:"kind"`  // container or host
	Check     string `json:"check"` // container, http, postgres, redis, tcp
	Status    string `json:"status"`
	Detail    string `json:"detail"`
	LatencyMS int64  `json:"latency_ms"`
}

// defaultHealthPaths are what devenv checks for roles without a declared
// health URL.
var defaultHealthPaths = map[string]string{"electric": "/v1/health", "phoenix": "/", "vite": "/"}

// Health checks containers and host services concurrently with short
// timeouts.
func (o *Orchestrator) Health(ctx context.Context, p *compose.Project, services []string) ([]HealthRow, error) {
	for _, s := range services {
		if _, ok := p.X.Host[s]; ok {
			continue
		}
		if _, err := p.SelectServices([]string{s}); err != nil {
			return nil, err
		}
	}
	want := func(s string) bool { return len(services) == 0 || slices.Contains(services, s) }
	ports, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return nil, err
	}
	assigned := assignedPorts(p, ports)
	lookup := func(svc string, target int) (int, bool) { return lookupPort(assigned, svc, target) }
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject + "=" + p.Name()}, All: true})
	if err != nil {
		return nil, err
	}
	byService := map[string]Container{}
	for _, c := range cs {
		if c.Labels[LabelOneoff] != "True" {
			byService[c.Labels[LabelService]] = c
		}
	}
	host := o.DialHost
	if host == "" {
		host = "127.0.0.1"
	}
	type job struct {
		row HealthRow
		fn  func(context.Context) (string, string)
	}
	var jobs []job
	for _, name := range p.Model.ServiceNames() {
		if !want(name) {
			continue
		}
		svc := p.Model.Services[name]
		sx := p.ServiceX[name]
		role := compose.Role(sx.Role, svc.Image, name)
		c, ok := byService[name]
		before := len(jobs)
		base := HealthRow{Project: p.Name(), Service: name, Kind: "container"}
		if !ok || c.State != "running" {
			r := base
			r.Check, r.Status, r.Detail = "container", StatusDown, "no running container"
			if ok {
				r.Detail = "container " + c.Name + " is " + c.State
			}
			jobs = append(jobs, job{row: r})
			continue
		}
		if c.Health != "" {
			r := base
			r.Check, r.Status, r.Detail = "container", c.Health, "engine healthcheck"
			if c.Health == "starting" {
				// The engine has not probed yet: run its test now.
				id := c.ID
				jobs = append(jobs, job{row: r, fn: func(ctx context.Context) (string, string) { return o.probeNow(ctx, id) }})
			} else {
				jobs = append(jobs, job{row: r})
			}
		}
		addr := func(target int) string {
			for _, pb := range c.Ports {
				if (target == 0 || pb.Target == target) && pb.HostPort != "" && pb.Protocol == "tcp" {
					return net.JoinHostPort(host, pb.HostPort)
				}
			}
			return ""
		}
		if sx.Health != "" {
			url, err := compose.Expand(sx.Health, lookup)
			r := base
			r.Check = "http"
			if err != nil {
				r.Status, r.Detail = StatusUnhealthy, err.Error()
				jobs = append(jobs, job{row: r})
			} else {
				jobs = append(jobs, job{row: r, fn: func(ctx context.Context) (string, string) { return CheckHTTP(ctx, url) }})
			}
			continue
		}
		switch role {
		case "postgres":
			if a := addr(5432); a != "" {
				user := envValue(svc.Environment, "POSTGRES_USER")
				db := envValue(svc.Environment, "POSTGRES_DB")
				r := base
				r.Check = "postgres"
				jobs = append(jobs, job{row: r, fn: func(ctx context.Context) (string, string) { return CheckPostgres(ctx, a, user, db) }})
			}
		case "redis":
			if a := addr(6379); a != "" {
				r := base
				r.Check = "redis"
				jobs = append(jobs, job{row: r, fn: func(ctx context.Context) (string, string) { return CheckRedis(ctx, a) }})
			}
		default:
			if path, ok := defaultHealthPaths[role]; ok {
				if a := addr(0); a != "" {
					r := base
					r.Check = "http"
					jobs = append(jobs, job{row: r, fn: func(ctx context.Context) (string, string) { return CheckHTTP(ctx, "http://"+a+path) }})
				}
			}
		}
		if len(jobs) == before {
			r := base
			r.Check, r.Status, r.Detail = "container", StatusHealthy, "running (no healthcheck)"
			jobs = append(jobs, job{row: r})
		}
	}
	for _, name := range sortedKeys(p.X.Host) {
		if !want(name) {
			continue
		}
		h := p.X.Host[name]
		port, _ := lookup(name, 0)
		r := HealthRow{Project: p.Name(), Service: name, Kind: "host"}
		switch {
		case h.Health != "":
			url, err := compose.Expand(h.Health, lookup)
			r.Check = "http"
			if err != nil {
				r.Status, r.Detail = StatusUnhealthy, err.Error()
				jobs = append(jobs, job{row: r})
				continue
			}
			jobs = append(jobs, job{row: r, fn: func(ctx context.Context) (string, string) { return CheckHTTP(ctx, url) }})
		case defaultHealthPaths[h.Role] != "":
			r.Check = "http"
			url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + defaultHealthPaths[h.Role]
			jobs = append(jobs, job{row: r, fn: func(ctx context.Context) (string, string) { return CheckHTTP(ctx, url) }})
		default:
			r.Check = "tcp"
			a := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			jobs = append(jobs, job{row: r, fn: func(ctx context.Context) (string, string) { return CheckTCP(ctx, a) }})
		}
	}
	rows := make([]HealthRow, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		rows[i] = j.row
		if j.fn == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			start := time.Now()
			rows[i].Status, rows[i].Detail = j.fn(cctx)
			rows[i].LatencyMS = time.Since(start).Milliseconds()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Kind != rows[j].Kind {
			return rows[i].Kind < rows[j].Kind
		}
		return rows[i].Service < rows[j].Service
	})
	return rows, nil
}

// probeNow runs a container's healthcheck test once, for a container the
// engine has not probed yet.
func (o *Orchestrator) probeNow(ctx context.Context, id string) (string, string) {
	d, err := o.Engine.Inspect(ctx, id)
	if err != nil {
		return StatusUnhealthy, err.Error()
	}
	if d.Health == "healthy" || d.Healthcheck == nil {
		return d.Health, "engine healthcheck"
	}
	res, err := o.probe(ctx, id, d.Healthcheck)
	switch {
	case err != nil:
		return StatusStarting, "healthcheck: " + shortErr(err)
	case res.ExitCode == 0:
		return StatusHealthy, "healthcheck passed (run by devenv; the engine has not probed yet)"
	}
	return StatusStarting, "healthcheck: " + oneLine(res.Output)
}

func envValue(env map[string]*string, key string) string {
	if v, ok := env[key]; ok && v != nil {
		return *v
	}
	return ""
}

// assignedPorts maps service → target → host port, first published first.
type portAssignments map[string][][2]int

func assignedPorts(p *compose.Project, res *PortResult) portAssignments {
	out := portAssignments{}
	for svc, bs := range res.Bindings {
		for _, b := range bs {
			if b.Port > 0 {
				out[svc] = append(out[svc], [2]int{b.Target, b.Port})
			}
		}
	}
	for _, name := range sortedKeys(p.X.Host) {
		port := p.X.Host[name].Port
		if res.Project != nil {
			for _, r := range res.Project.Reservations {
				if r.Service == name && r.Host {
					port = r.Port
				}
			}
		}
		out[name] = append(out[name], [2]int{p.X.Host[name].Port, port})
	}
	return out
}

func lookupPort(a portAssignments, svc string, target int) (int, bool) {
	for _, tp := range a[svc] {
		if target == 0 || tp[0] == target {
			return tp[1], true
		}
	}
	return 0, false
}
