package orchestrator

import (
	"context"
	"errors"
	"sync"

	"github.com/devenv-dev/devenv/compose"
)

// StatsRow is one container's sample.
type StatsRow struct {
	ID, Name string
	Stats    Stats
}

// Stats samples the selected services' running containers (all of the
// project's with all), in parallel.
func (o *Orchestrator) Stats(ctx context.Context, p *compose.Project, services []string) ([]StatsRow, error) {
	containers, _, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return nil, err
	}
	var running []Container
	for _, c := range containers {
		if c.State == "running" {
			running = append(running, c)
		}
	}
	rows := make([]StatsRow, len(running))
	errs := make([]error, len(running))
	var wg sync.WaitGroup
	for i, c := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := o.Engine.Stats(ctx, c.ID)
			rows[i], errs[i] = StatsRow{ID: c.ID, Name: c.Name, Stats: st}, err
		}()
	}
	wg.Wait()
	return rows, errors.Join(errs...)
}
