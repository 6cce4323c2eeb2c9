package orchestrator

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

// findForeign records containers that hold a name devenv is about to use
// without this project's labels.
func (o *Orchestrator) findForeign(ctx context.Context, d *Desired, obs *Observed, services []string) error {
	var names []string
	for _, s := range services {
		if _, ok := obs.ServiceContainer(s); !ok {
			names = append(names, d.Services[s].Spec.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	cs, err := o.Engine.Containers(ctx, ListFilter{Names: names, All: true})
	if err != nil {
		return err
	}
	for _, c := range cs {
		for _, n := range names {
			if c.Name == n && c.Labels[LabelProject] != d.Project {
				obs.Foreign[n] = c
			}
		}
	}
	return nil
}

// pull fetches the plan's images; a failed pull leaves nothing created. It
// says whether anything was pulled.
func (o *Orchestrator) pull(ctx context.Context, plan *Plan, quiet bool) (bool, error) {
	g, gctx := errgroup.WithContext(ctx)
	pulled := false
	for _, s := range plan.Steps {
		if s.Action != ActPull {
			continue
		}
		pulled = true
		g.Go(func() error {
			if !quiet {
				o.emit(Event{Service: s.Service, Name: s.Name, Status: "Pulling"})
			}
			if err := o.Engine.Pull(gctx, s.Name); err != nil {
				return fmt.Errorf("service %s: pull image %s: %w", s.Service, s.Name, err)
			}
			if !quiet {
				o.emit(Event{Service: s.Service, Name: s.Name, Status: "Pulled"})
			}
			return nil
		})
	}
	return pulled, g.Wait()
}

func (o *Orchestrator) apply(ctx context.Context, d *Desired, plan *Plan, services []string, opts UpOptions) error {
	if err := o.labelImages(ctx, d, plan, services); err != nil {
		return err
	}
	for _, s := range plan.Steps {
		var err error
		switch s.Action {
		case ActCreateNetwork:
			for _, n := range d.Networks {
				if n.Spec.Name == s.Name {
					o.emit(Event{Name: s.Name, Status: "Creating"})
					_, err = o.Engine.CreateNetwork(ctx, n.Spec)
					o.emit(Event{Name: s.Name, Status: "Created"})
				}
			}
		case ActCreateVolume:
			for _, v := range d.Volumes {
				if v.Spec.Name == s.Name {
					o.emit(Event{Name: s.Name, Status: "Creating"})
					err = o.Engine.CreateVolume(ctx, v.Spec)
					o.emit(Event{Name: s.Name, Status: "Created"})
				}
			}
		case ActRemoveOrphan, ActRemoveLeftover:
			o.emit(Event{Service: s.Service, Name: s.Name, Status: "Removing", Detail: string(s.Action)})
			for _, c := range s.Calls {
				if err == nil && c.Op == CallStop {
					_, err = o.Engine.Stop(ctx, s.Existing.ID, "", 10*time.Second)
				} else if err == nil && c.Op == CallRemove {
					err = o.Engine.Remove(ctx, s.Existing.ID, false)
				}
			}
			o.emit(Event{Service: s.Service, Name: s.Name, Status: "Removed"})
		case ActWarnOrphan:
			o.warn(s.Service, fmt.Sprintf("found orphan container %s for this project; run with --remove-orphans to remove it", s.Name))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	// Volumes exist now and no container uses them yet: an instance's are
	// filled from another instance's before anything starts.
	if seed := opts.seed; seed.from != "" {
		created := map[string]bool{}
		for _, st := range plan.Steps {
			if st.Action == ActCreateVolume {
				created[st.Name] = true
			}
		}
		if err := o.seedVolumes(ctx, seed.project, d, seed.from, seed.strict, created); err != nil {
			return err
		}
	}
	return o.startAll(ctx, d, plan, services, opts)
}

// labelImages records each image's ID in com.docker.compose.image, as
// compose does, so either tool sees when an image changed.
func (o *Orchestrator) labelImages(ctx context.Context, d *Desired, plan *Plan, services []string) error {
	pulled := map[string]bool{}
	for _, s := range plan.Steps {
		if s.Action == ActPull || s.Action == ActBuild {
			pulled[NormalizeRef(s.Name)] = true // a new image: its ID is asked again
		}
	}
	ids := map[string]string{}
	for _, name := range services {
		ds := d.Services[name]
		ref := NormalizeRef(ds.Spec.Image)
		id, ok := ids[ref]
		if !ok {
			id, ok = d.ImageIDs[ref]
			if !ok || pulled[ref] {
				im, err := o.Engine.ImageInspect(ctx, ds.Spec.Image)
				if err != nil {
					return fmt.Errorf("service %s: image %s: %w", name, ds.Spec.Image, err)
				}
				id = im.ID
			}
			ids[ref] = id
		}
		ds.Spec.Labels[LabelImage] = id
	}
	return nil
}
