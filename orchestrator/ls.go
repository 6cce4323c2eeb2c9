package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/devenv-dev/devenv/registry"
)

// ProjectRow is one project for `ls`.
type ProjectRow struct {
	// Name, Status and ConfigFiles are docker compose ls's keys; the
	// others are devenv's, cased as compose's.
	Name        string `json:"Name"`
	Status      string `json:"Status"`
	ConfigFiles string `json:"ConfigFiles"`
	Running     int    `json:"Running"`
	Containers  int    `json:"Containers"`
	Directory   string `json:"Directory"`
	Ports       string `json:"Ports"`
	Registered  bool   `json:"Registered"`
	// HostServices counts the host services devenv runs for the project.
	HostServices int `json:"HostServices"`
	// Engine is where a remote engine is reached ("" for this machine's);
	// Forwarded says its ports are forwarded here now.
	Engine    string `json:"Engine,omitempty"`
	Forwarded bool   `json:"Forwarded,omitempty"`
	// Instance is set for an instance of a project (a worktree); ls lists
	// it under its project.
	Instance string `json:"Instance,omitempty"`
	// URL is the project's main name (https://PROJECT.localhost), URLs
	// all of its names.
	URL  string   `json:"URL,omitempty"`
	URLs []string `json:"URLs,omitempty"`
	// elsewhere: registered on an engine devenv is not talking to now.
	elsewhere bool
}

// Ls lists every project known to the registry or found on the engine by
// compose labels (also those docker compose created).
func (o *Orchestrator) Ls(ctx context.Context) ([]ProjectRow, error) {
	rows := lsRows{o: o, rows: map[[2]string]*ProjectRow{}}
	if reg, err := o.Registry.Load(); err == nil {
		rows.registered(reg)
	}
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject}, All: true})
	var notAsked error
	switch {
	case err != nil && errors.Is(err, ErrEngineUnreachable):
		// The registry's projects, their containers unknown.
		notAsked = &EngineNotAskedError{Err: err}
	case err != nil:
		return nil, err
	}
	rows.containers(cs)
	out := make([]ProjectRow, 0, len(rows.rows))
	for key, r := range rows.rows {
		o.lsHostServices(r, key[1])
		r.Status = lsStatus(r, notAsked != nil)
		out = append(out, *r)
	}
	// Instances under their project: by the project's own name first.
	base := func(r ProjectRow) string { return strings.TrimSuffix(r.Name, "-"+r.Instance) }
	sort.Slice(out, func(i, j int) bool {
		if bi, bj := base(out[i]), base(out[j]); bi != bj {
			return bi < bj
		}
		if out[i].Instance != out[j].Instance {
			return out[i].Instance < out[j].Instance
		}
		return out[i].Engine < out[j].Engine
	})
	return out, notAsked
}

// lsRows are ls's rows by project name and engine key.
type lsRows struct {
	o    *Orchestrator
	rows map[[2]string]*ProjectRow
}

func (l lsRows) get(name, engine string) *ProjectRow {
	r, ok := l.rows[[2]string{name, engine}]
	if !ok {
		r = &ProjectRow{Name: name, elsewhere: engine != l.o.EngineKey}
		if engine != "" {
			r.Engine = engine
			if here := l.o.reach(); engine == l.o.EngineKey && !here.onThisMachine() {
				r.Engine = here.label()
			}
		}
		l.rows[[2]string{name, engine}] = r
	}
	return r
}

// registered adds the registry's projects with their reserved ports.
func (l lsRows) registered(reg *registry.Registry) {
	for _, p := range reg.Projects {
		if registry.Own(p.Name) {
			continue // devenv's own ports, shown by ports and proxy status
		}
		r := l.get(p.Name, p.Engine)
		if p.Engine != l.o.EngineKey {
			r.Engine = p.EngineLabel()
		}
		r.Registered, r.Directory, r.Instance = true, p.Dir, p.Instance
		r.URL = p.MainURL(reg.ProxyPort())
		for _, urls := range p.URLs(reg.ProxyPort()) {
			r.URLs = append(r.URLs, urls...)
		}
		slices.Sort(r.URLs)
		r.URLs = slices.Compact(r.URLs)
		var nums []int
		for _, res := range p.Reservations {
			nums = append(nums, res.Port)
		}
		slices.Sort(nums)
		ports := make([]string, 0, len(nums))
		for _, n := range slices.Compact(nums) {
			ports = append(ports, strconv.Itoa(n))
		}
		r.Ports = strings.Join(ports, ",")
	}
}

// containers counts the engine's containers (one-offs aside) per project.
func (l lsRows) containers(cs []Container) {
	for _, c := range cs {
		if c.Labels[LabelOneoff] == "True" {
			continue
		}
		r := l.get(c.Labels[LabelProject], l.o.EngineKey)
		r.Containers++
		if c.State == "running" {
			r.Running++
		}
		if r.Directory == "" {
			r.Directory = c.Labels[LabelWorkingDir]
		}
		if r.ConfigFiles == "" {
			r.ConfigFiles = c.Labels[LabelConfigFiles]
		}
	}
}

// lsHostServices counts a project's running host services and notes its
// forward (of the engine keyed engine) running here.
func (o *Orchestrator) lsHostServices(r *ProjectRow, engine string) {
	if o.Hosts == nil {
		return
	}
	for _, h := range o.Hosts.Names(r.Name) {
		st, ok := o.Hosts.Status(r.Name, h)
		switch {
		case !ok || !st.Running:
		case forward.IsName(h):
			// Its forward runs here, whichever engine is in use now.
			r.Forwarded = r.Forwarded || engine != "" && h == forward.NameFor(engine)
		default:
			r.HostServices++
		}
	}
}

// lsStatus is compose's status text, with devenv's additions.
func lsStatus(r *ProjectRow, notAsked bool) string {
	var status string
	switch {
	case r.elsewhere:
		status = "not asked (another engine)"
	case notAsked:
		status = "unknown (engine not reachable)"
	case r.Containers == 0:
		status = "no containers"
	case r.Running == r.Containers:
		status = fmt.Sprintf("running(%d)", r.Running)
	case r.Running == 0:
		status = fmt.Sprintf("exited(%d)", r.Containers)
	default:
		status = fmt.Sprintf("running(%d/%d)", r.Running, r.Containers)
	}
	if r.HostServices > 0 {
		status += fmt.Sprintf(", host services running(%d)", r.HostServices)
	}
	if r.Forwarded {
		status += ", ports forwarded"
	}
	return status
}
