package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// DownOptions are the flags of `down`.
type DownOptions struct {
	Timeout       *time.Duration
	Volumes       bool
	RemoveOrphans bool
	// RemoveImages is compose's --rmi: "all" removes the services' images,
	// "local" those without an image: name (none: devenv does not build).
	RemoveImages string
}

// Down stops the project's containers in reverse dependency order, in
// parallel where possible, removes them and the project's networks, and
// removes volumes only when asked: with a compose file, the file's own
// volumes that are not external and not used only by inactive services
// (what docker compose down -v removes); by name alone (-p NAME), every
// volume labelled for the project. Only resources carrying the project's
// label are touched, and never those of a same-named project in another
// directory.
func (o *Orchestrator) Down(ctx context.Context, p *compose.Project, opts DownOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	obs, err := Observe(ctx, o.Engine, p.Name(), false)
	if err != nil {
		return err
	}
	if err := o.checkSameDir(p, append(slices.Clone(obs.Containers), obs.OneOffs...)); err != nil {
		return err
	}
	// Host services depend on the containers: they stop first, all of
	// them, so no process of the project is left.
	if err := o.stopHosts(ctx, p, nil); err != nil {
		return err
	}
	if err := o.reach().stop(ctx, p.Name()); err != nil {
		return err
	}
	var targets []Container
	for _, c := range obs.Containers {
		// Without a compose file (-p NAME), every container of the project
		// is the project's.
		if p.Declares(c.Labels[LabelService]) || opts.RemoveOrphans || len(p.Files) == 0 {
			targets = append(targets, c)
		} else {
			o.warn(c.Labels[LabelService], fmt.Sprintf("orphan container %s left in place; --remove-orphans removes it", c.Name))
		}
	}
	// One-off containers (run) go with the project, as in compose.
	targets = append(targets, obs.OneOffs...)
	if err := o.stopOrdered(ctx, p, targets, opts.Timeout); err != nil {
		return err
	}
	if err := o.removeContainers(ctx, targets, opts.Volumes); err != nil {
		return err
	}
	if err := o.reach().removeRelay(ctx, p); err != nil {
		return err
	}
	for _, n := range obs.Networks {
		if n.Labels[LabelProject] != p.Name() {
			continue
		}
		o.emit(Event{Name: n.Name, Status: "Removing"})
		if err := o.Engine.RemoveNetwork(ctx, n.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remove network %s: %w", n.Name, err)
		}
		o.emit(Event{Name: n.Name, Status: "Removed"})
	}
	o.removeImages(ctx, p, opts.RemoveImages)
	if !opts.Volumes {
		return nil
	}
	for _, v := range downVolumes(p, obs.Volumes) {
		o.emit(Event{Name: v, Status: "Removing"})
		if err := o.Engine.RemoveVolume(ctx, v); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remove volume %s: %w", v, err)
		}
		o.emit(Event{Name: v, Status: "Removed"})
	}
	return nil
}

func (o *Orchestrator) removeContainers(ctx context.Context, targets []Container, withVolumes bool) error {
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Removing"})
			if err := o.Engine.Remove(ctx, c.ID, withVolumes); err != nil && !errors.Is(err, ErrNotFound) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("remove %s: %w", c.Name, err))
				mu.Unlock()
				return
			}
			o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Removed"})
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return ctx.Err()
}

// downVolumes are the volumes down -v removes, among those on the engine
// labelled for the project.
func downVolumes(p *compose.Project, have []Volume) []string {
	labelled := map[string]bool{}
	var all []string
	for _, v := range have {
		if v.Labels[LabelProject] == p.Name() {
			labelled[v.Name] = true
			all = append(all, v.Name)
		}
	}
	if len(p.Files) == 0 {
		return all
	}
	var out []string
	for _, key := range sortedKeys(p.Model.Volumes) {
		v := p.Model.Volumes[key]
		if bool(v.External) || !labelled[v.Name] || !p.VolumeInUse(key) {
			continue
		}
		out = append(out, v.Name)
	}
	return out
}
