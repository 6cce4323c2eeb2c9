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

// downImages are the images down --rmi removes, each with the service
// that named it first: all, every service's image; local, those built
// under compose's own name (no image: of their own), as compose's --rmi
// local.
func downImages(p *compose.Project, which string) [][2]string {
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
				img = imageName(p.Name(), svc)
			}
		} else if img == "" && svc.Build != nil {
			img = imageName(p.Name(), svc)
		}
		if img == "" || seen[img] {
			continue
		}
		seen[img] = true
		out = append(out, [2]string{name, img})
	}
	return out
}
