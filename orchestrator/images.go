package orchestrator

import (
	"context"
	"errors"
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

// removeImages removes the services' images after down (--rmi all; local
// means images without an image: name, which devenv never has as it does
// not build). An image another container uses stays, with a warning.
func (o *Orchestrator) removeImages(ctx context.Context, p *compose.Project, which string) {
	if which != "all" && which != "local" {
		return
	}
	seen := map[string]bool{}
	for _, name := range p.Model.ServiceNames() {
		svc := p.Model.Services[name]
		// all: every service's image; local: those built under compose's
		// own name (no image: of their own), as compose's --rmi local.
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
		o.emit(Event{Name: img, Status: "Removing"})
		if err := o.Engine.RemoveImage(ctx, img); err != nil && !errors.Is(err, ErrNotFound) {
			o.warn(name, fmt.Sprintf("image %s not removed: %v", img, err))
			continue
		}
		o.emit(Event{Name: img, Status: "Removed"})
	}
}
