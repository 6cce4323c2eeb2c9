package orchestrator

import (
	"context"
	"fmt"

	"github.com/devenv-dev/devenv/compose"
)

// TopRow is one process of a service's container.
type TopRow struct {
	Service   string
	Container string
	Values    []string
}

// Top lists the processes of the selected services' running containers,
// with the engine's column titles.
func (o *Orchestrator) Top(ctx context.Context, p *compose.Project, services []string) ([]string, []TopRow, error) {
	containers, hosts, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return nil, nil, err
	}
	var titles []string
	var rows []TopRow
	if o.Hosts != nil {
		for _, h := range hosts {
			for _, pr := range o.Hosts.Processes(p.Name(), h) {
				titles = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}
				rows = append(rows, TopRow{Service: h, Container: "host:" + h, Values: pr})
			}
		}
	}
	for _, c := range containers {
		if c.State != "running" {
			continue
		}
		t, procs, err := o.Engine.Top(ctx, c.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("top %s: %w", c.Name, err)
		}
		titles = t
		for _, pr := range procs {
			rows = append(rows, TopRow{Service: c.Labels[LabelService], Container: c.Name, Values: pr})
		}
	}
	return titles, rows, nil
}
