package orchestrator

import (
	"context"
	"net"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/probe"
	"github.com/devenv-dev/devenv/registry"

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
	// URL is the service's name as a URL, URLs all of its names.
	URL  string   `json:"url,omitempty"`
	URLs []string `json:"urls,omitempty"`
}

// defaultHealthPaths are what devenv checks for roles without a declared
// health URL.
var defaultHealthPaths = map[string]string{"electric": "/v1/health", "phoenix": "/", "vite": "/"}

// healthJob is one check: a row already decided, or a probe to run.
type healthJob struct {
	row HealthRow
	fn  func(context.Context) (string, string)
}

// The statuses health reports (those of package probe).
const (
	StatusHealthy   = probe.Healthy
	StatusUnhealthy = probe.Unhealthy
	StatusDown      = probe.Down
	StatusStarting  = probe.Starting
)

// Health checks containers and host services concurrently with short
// timeouts.
func (o *Orchestrator) Health(ctx context.Context, p *compose.Project, services []string) ([]HealthRow, error) {
	if err := p.CheckNames(services); err != nil {
		return nil, err
	}
	want := func(s string) bool { return len(services) == 0 || slices.Contains(services, s) }
	ports, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return nil, err
	}
	_, ph := placeholders(p, ports)
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
	var jobs []healthJob
	for _, name := range p.Model.ServiceNames() {
		if want(name) {
			c, ok := byService[name]
			jobs = append(jobs, o.containerChecks(p, name, c, ok, ph)...)
		}
	}
	for _, name := range sortedKeys(p.X.Host) {
		if want(name) {
			jobs = append(jobs, hostCheck(p, name, ph))
		}
	}
	rows, err := runHealthJobs(ctx, jobs)
	urls := ports.Project.URLs(ports.ProxyPort)
	for i := range rows {
		if u := urls[rows[i].Service]; len(u) > 0 {
			rows[i].URL, rows[i].URLs = u[0], u
		}
	}
	return rows, err
}

// containerChecks are a service's checks: the engine's healthcheck (run now
// when the engine has not probed yet), then its declared health URL, else
// the probe its role implies (PostgreSQL, Redis, HTTP).
func (o *Orchestrator) containerChecks(p *compose.Project, name string, c Container, exists bool, ph compose.Placeholders) []healthJob {
	base := HealthRow{Project: p.Name(), Service: name, Kind: "container"}
	if !exists || c.State != "running" {
		r := base
		r.Check, r.Status, r.Detail = "container", StatusDown, "no running container"
		if exists {
			r.Detail = "container " + c.Name + " is " + c.State
		}
		return []healthJob{{row: r}}
	}
	var jobs []healthJob
	if c.Health != "" {
		r := base
		r.Check, r.Status, r.Detail = "container", c.Health, "engine healthcheck"
		j := healthJob{row: r}
		if c.Health == "starting" {
			// The engine has not probed yet: run its test now.
			id := c.ID
			j.fn = func(ctx context.Context) (string, string) { return o.healthcheckNow(ctx, id) }
		}
		jobs = append(jobs, j)
	}
	if probe := o.roleProbe(p, name, c, ph); probe != nil {
		probe.row.Project, probe.row.Service, probe.row.Kind = base.Project, base.Service, base.Kind
		jobs = append(jobs, *probe)
	}
	if len(jobs) == 0 {
		r := base
		r.Check, r.Status, r.Detail = "container", StatusHealthy, "running (no healthcheck)"
		jobs = append(jobs, healthJob{row: r})
	}
	return jobs
}

// roleProbe is the service's declared health URL, else the probe of its
// role on its published port; nil when there is none.
func (o *Orchestrator) roleProbe(p *compose.Project, name string, c Container, ph compose.Placeholders) *healthJob {
	svc, sx := p.Model.Services[name], p.ServiceX[name]
	if sx.Health != "" {
		return httpJob(sx.Health, ph)
	}
	addr := func(target int) string {
		for _, pb := range c.Ports {
			if (target == 0 || pb.Target == target) && pb.HostPort != "" && pb.Protocol == "tcp" {
				// A remote engine's too: its forward serves it here.
				return net.JoinHostPort("127.0.0.1", pb.HostPort)
			}
		}
		return ""
	}
	role := compose.Role(sx.Role, svc.Image, name)
	switch a := addr(map[string]int{"postgres": 5432, "redis": 6379}[role]); {
	case a == "":
		return nil
	case role == "postgres":
		user, db := envValue(svc.Environment, "POSTGRES_USER"), envValue(svc.Environment, "POSTGRES_DB")
		return &healthJob{row: HealthRow{Check: "postgres"}, fn: func(ctx context.Context) (string, string) { return probe.Postgres(ctx, a, user, db) }}
	case role == "redis":
		return &healthJob{row: HealthRow{Check: "redis"}, fn: func(ctx context.Context) (string, string) { return probe.Redis(ctx, a) }}
	case defaultHealthPaths[role] != "":
		url := "http://" + a + defaultHealthPaths[role]
		return &healthJob{row: HealthRow{Check: "http"}, fn: func(ctx context.Context) (string, string) { return probe.HTTP(ctx, url) }}
	}
	return nil
}

// httpJob checks a health URL with {service} placeholders.
func httpJob(template string, ph compose.Placeholders) *healthJob {
	url, err := ph.Expand(template)
	if err != nil {
		return &healthJob{row: HealthRow{Check: "http", Status: StatusUnhealthy, Detail: err.Error()}}
	}
	return &healthJob{row: HealthRow{Check: "http"}, fn: func(ctx context.Context) (string, string) { return probe.HTTP(ctx, url) }}
}

// hostCheck is a host service's check: its health URL, else its role's
// default path, else TCP on its port.
func hostCheck(p *compose.Project, name string, ph compose.Placeholders) healthJob {
	h := p.X.Host[name]
	port, _ := ph.Port(name, 0)
	var j healthJob
	switch {
	case h.Health != "":
		j = *httpJob(h.Health, ph)
	case defaultHealthPaths[h.Role] != "":
		url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + defaultHealthPaths[h.Role]
		j = healthJob{row: HealthRow{Check: "http"}, fn: func(ctx context.Context) (string, string) { return probe.HTTP(ctx, url) }}
	default:
		a := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		j = healthJob{row: HealthRow{Check: "tcp"}, fn: func(ctx context.Context) (string, string) { return probe.TCP(ctx, a) }}
	}
	j.row.Project, j.row.Service, j.row.Kind = p.Name(), name, "host"
	return j
}

// runHealthJobs runs the probes in parallel, each with a short timeout.
func runHealthJobs(ctx context.Context, jobs []healthJob) ([]HealthRow, error) {
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

// healthcheckNow runs a container's healthcheck test once, for a container the
// engine has not probed yet.
func (o *Orchestrator) healthcheckNow(ctx context.Context, id string) (string, string) {
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
		return StatusStarting, "healthcheck: " + probe.Brief(err)
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

// placeholders answer the project's templates from its assigned ports and,
// for {SERVICE.url} and {SERVICE.host}, its names as the proxy serves them
// (run). In health checks (check), {SERVICE.url} is the service's own
// http://127.0.0.1:PORT, so devenv's checks never depend on how this
// machine resolves *.localhost.
func placeholders(p *compose.Project, ports *PortResult) (run, check compose.Placeholders) {
	assigned := assignedPorts(p, ports)
	lookup := func(svc string, target int) (int, bool) { return lookupPort(assigned, svc, target) }
	names, _ := p.Names() // a bad name failed the load already
	name := func(svc string) string { return compose.NameOf(names, svc) }
	run = compose.Placeholders{Port: lookup, Name: name, URL: func(host string) string { return registry.NameURL(host, ports.ProxyPort) }}
	check = compose.Placeholders{Port: lookup, Name: name, URL: func(host string) string {
		for _, n := range names {
			if port, ok := lookup(n.Service, n.Target); ok && n.Host == host {
				return "http://127.0.0.1:" + strconv.Itoa(port)
			}
		}
		return "http://" + host
	}}
	return run, check
}

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
		port := res.Project.HostPort(name, p.X.Host[name].Port)
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
