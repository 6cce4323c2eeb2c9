package plan

import (
	"context"
	"errors"

	"github.com/devenv-dev/devenv/orchestrator/engine"
	"golang.org/x/sync/errgroup"
)

// Observed is the project's current state on the engine.
type Observed struct {
	Containers []Container
	// OneOffs are containers devenv run (and compose run) started.
	OneOffs  []Container
	Networks []Network
	Volumes  []Volume
	// Images maps normalised image references to local image IDs.
	Images map[string]string
	// Foreign are containers that carry a name devenv wants but not this
	// project's labels.
	Foreign map[string]Container
}

// Observe lists the project's containers, networks and volumes by label, and
// the local images, with one call per kind, in parallel.
func Observe(ctx context.Context, eng Engine, project string, images bool) (*Observed, error) {
	o := &Observed{Images: map[string]string{}, Foreign: map[string]Container{}}
	label := []string{LabelProject + "=" + project}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		cs, err := eng.Containers(gctx, ListFilter{Labels: label, All: true})
		for _, c := range cs {
			if c.Labels[LabelOneoff] != "True" {
				o.Containers = append(o.Containers, c)
			} else {
				o.OneOffs = append(o.OneOffs, c)
			}
		}
		return err
	})
	g.Go(func() (err error) { o.Networks, err = eng.Networks(gctx, label); return })
	g.Go(func() (err error) { o.Volumes, err = eng.Volumes(gctx, label); return })
	if images {
		g.Go(func() error {
			ims, err := eng.Images(gctx)
			for _, im := range ims {
				for _, t := range im.Tags {
					o.Images[engine.NormalizeRef(t)] = im.ID
				}
				for _, dg := range im.Digests {
					o.Images[engine.NormalizeRef(dg)] = im.ID
				}
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := o.stoppedBindings(ctx, eng); err != nil {
		return nil, err
	}
	return o, nil
}

// stoppedBindings fills in the published ports of containers that are not
// running, which the engine's list leaves out: one inspect each, in
// parallel. A running stack costs nothing.
func (o *Observed) stoppedBindings(ctx context.Context, eng Engine) error {
	g, gctx := errgroup.WithContext(ctx)
	for i, c := range o.Containers {
		if c.State == "running" || c.State == "paused" {
			continue
		}
		g.Go(func() error {
			d, err := eng.Inspect(gctx, c.ID)
			if errors.Is(err, engine.ErrNotFound) {
				return nil // removed meanwhile
			}
			o.Containers[i].Ports = d.Bindings
			return err
		})
	}
	return g.Wait()
}

// serviceContainer returns the service's container: the one with the name
// devenv gives it, else the one ServiceContainer picks.
func (o *Observed) serviceContainer(service, name string) (Container, bool) {
	for _, c := range o.Containers {
		if c.Labels[LabelService] == service && c.Name == name {
			return c, true
		}
	}
	return o.ServiceContainer(service)
}

// ServiceContainer returns the service's container, preferring number 1.
func (o *Observed) ServiceContainer(service string) (Container, bool) {
	var found Container
	ok := false
	for _, c := range o.Containers {
		if c.Labels[LabelService] != service {
			continue
		}
		if !ok || c.Labels[LabelNumber] == "1" {
			found, ok = c, true
		}
	}
	return found, ok
}
