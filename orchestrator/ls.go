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
	// elsewhere: registered on an engine devenv is not talking to now.
	elsewhere bool
}

// Ls lists every project known to the registry or found on the engine by
// compose labels (also those docker compose created).
func (o *Orchestrator) Ls(ctx context.Context) ([]ProjectRow, error) {
	rows := map[[2]string]*ProjectRow{}
	get := func(name, engine string) *ProjectRow {
		r, ok := rows[[2]string{name, engine}]
		if !ok {
			r = &ProjectRow{Name: name, elsewhere: engine != o.EngineKey}
			if engine != "" {
				r.Engine = engine
				if engine == o.EngineKey && o.Remote != nil {
					r.Engine = o.Remote.Label()
				}
			}
			rows[[2]string{name, engine}] = r
		}
		return r
	}
	if reg, err := o.Registry.Load(); err == nil {
		for _, p := range reg.Projects {
			r := get(p.Name, p.Engine)
			if p.Engine != o.EngineKey {
				r.Engine = p.EngineLabel()
			}
			r.Registered, r.Directory = true, p.Dir
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
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject}, All: true})
	var notAsked error
	switch {
	case err != nil && errors.Is(err, ErrEngineUnreachable):
		// The registry's projects, their containers unknown.
		notAsked = &EngineNotAskedError{Err: err}
	case err != nil:
		return nil, err
	}
	for _, c := range cs {
		if c.Labels[LabelOneoff] == "True" {
			continue
		}
		r := get(c.Labels[LabelProject], o.EngineKey)
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
	out := make([]ProjectRow, 0, len(rows))
	for key, r := range rows {
		if o.Hosts != nil {
			for _, h := range o.Hosts.Names(r.Name) {
				st, ok := o.Hosts.Status(r.Name, h)
				switch {
				case !ok || !st.Running:
				case forward.IsName(h):
					// Its forward runs here, whichever engine is in use now.
					r.Forwarded = r.Forwarded || key[1] != "" && h == forward.NameFor(key[1])
				default:
					r.HostServices++
				}
			}
		}
		switch {
		case r.elsewhere:
			r.Status = "not asked (another engine)"
		case notAsked != nil:
			r.Status = "unknown (engine not reachable)"
		case r.Containers == 0:
			r.Status = "no containers"
		case r.Running == r.Containers:
			r.Status = fmt.Sprintf("running(%d)", r.Running)
		case r.Running == 0:
			r.Status = fmt.Sprintf("exited(%d)", r.Containers)
		default:
			r.Status = fmt.Sprintf("running(%d/%d)", r.Running, r.Containers)
		}
		if r.HostServices > 0 {
			r.Status += fmt.Sprintf(", host services running(%d)", r.HostServices)
		}
		if r.Forwarded {
			r.Status += ", ports forwarded"
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Engine < out[j].Engine
	})
	return out, notAsked
}
