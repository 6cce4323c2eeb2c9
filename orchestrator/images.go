package orchestrator

import (
	"context"
	"fmt"

	"github.com/devenv-dev/devenv/compose"
)

// ImageRow is the image of one of the project's containers.
type ImageRow struct {
	Container string
	Image     Image
	Ref       string // as the container was created with
}

// Images lists the image each selected container was created from.
func (o *Orchestrator) Images(ctx context.Context, p *compose.Project, services []string) ([]ImageRow, error) {
	containers, _, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return nil, err
	}
	var rows []ImageRow
	for _, c := range containers {
		id := c.ImageID
		if id == "" {
			id = c.Image
		}
		im, err := o.Engine.ImageInspect(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("image of %s: %w", c.Name, err)
		}
		rows = append(rows, ImageRow{Container: c.Name, Image: im, Ref: c.Image})
	}
	return rows, nil
}
