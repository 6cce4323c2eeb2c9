package fakeengine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/engine"
)

func (f *Engine) Containers(_ context.Context, lf engine.ListFilter) ([]engine.Container, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []engine.Container
	for _, c := range f.ByID {
		running := c.State == "running" || c.stale
		if !lf.All && !running {
			continue
		}
		if !hasLabels(c.Labels, lf.Labels) {
			continue
		}
		if len(lf.Names) > 0 && !slices.Contains(lf.Names, c.Name) {
			continue
		}
		row := c.Container
		row.Labels = maps.Clone(c.Labels)
		if c.stale {
			row.State = "running"
		}
		row.Status = status(row)
		if !running {
			row.Ports = nil // the engine lists ports of running containers only
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b engine.Container) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// status is the engine's human text for a listed container, as a real
// engine words it a second after the change.
func status(c engine.Container) string {
	switch c.State {
	case "running":
		if c.Health != "" {
			return "Up 1 second (" + c.Health + ")"
		}
		return "Up 1 second"
	case "exited":
		return fmt.Sprintf("Exited (%d) 1 second ago", c.ExitCode)
	case "paused":
		return "Up 1 second (Paused)"
	}
	return "Created"
}

func (f *Engine) Create(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	if hook := f.BeforeCreate; hook != nil {
		f.BeforeCreate = nil
		hook(spec.Name)
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.record("create %s", spec.Name)
	if err := f.failure("create", spec.Name); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for _, c := range f.ByID {
		if c.Name == spec.Name {
			return "", fmt.Errorf("conflict: the container name %q is already in use", spec.Name)
		}
	}
	var imageID string
	for _, im := range f.ImageList {
		for _, r := range append(slices.Clone(im.Tags), im.Digests...) {
			if engine.NormalizeRef(r) == engine.NormalizeRef(spec.Image) {
				imageID = im.ID
			}
		}
	}
	if imageID == "" {
		return "", fmt.Errorf("image %s: %w", spec.Image, engine.ErrNotFound)
	}
	f.seq++
	id := f.containerID(spec.Name)
	c := &Container{Spec: spec, Container: engine.Container{
		ID: id, Name: spec.Name, Image: spec.Image, ImageID: imageID, Labels: maps.Clone(spec.Labels),
		State: "created", Created: time.Now(), Ports: slices.Clone(spec.Ports),
	}}
	for _, m := range spec.Mounts {
		if m.Type == "volume" && m.Source == "" {
			f.seq++
			m.Source = fmt.Sprintf("%064x", 1<<40+f.seq)
			c.anonymous = append(c.anonymous, m.Source)
			f.VolumesByName[m.Source] = engine.Volume{Name: m.Source}
		}
		c.Mounts = append(c.Mounts, m)
	}
	f.ByID[id] = c
	return id, nil
}

func (f *Engine) Start(ctx context.Context, id string) error {
	f.Mu.Lock()
	c, err := f.Find(id)
	if err != nil {
		f.Mu.Unlock()
		return err
	}
	f.record("start %s", c.Name)
	if err := f.failure("start", c.Name); err != nil {
		f.Mu.Unlock()
		return err
	}
	block := f.StartBlock[c.Name]
	f.Mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c.State, c.stale = "running", false
	c.Health = ""
	if c.Spec.Healthcheck != nil && c.Spec.Healthcheck.Test[0] != "NONE" {
		c.Health = "starting"
	}
	if code, ok := f.ExitOnStart[c.Name]; ok {
		c.State, c.ExitCode = "exited", code
	}
	if f.StartWithoutPorts[c.Name] {
		c.noPorts = true
		delete(f.StartWithoutPorts, c.Name)
	}
	return nil
}

func (f *Engine) Stop(ctx context.Context, id, signal string, timeout time.Duration) (bool, error) {
	f.Mu.Lock()
	c, err := f.Find(id)
	if err != nil {
		f.Mu.Unlock()
		return false, err
	}
	f.record("stop %s", c.Name)
	if err := f.failure("stop", c.Name); err != nil {
		f.Mu.Unlock()
		return false, err
	}
	delay := f.StopDelay[c.Name]
	running := c.State == "running"
	f.Mu.Unlock()
	killed := false
	if running && delay > 0 {
		wait := min(delay, timeout)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(wait):
		}
		killed = delay > timeout
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if c.State == "running" {
		c.State, c.ExitCode = "exited", 0
		if killed {
			c.ExitCode = 137
		}
		c.stale = f.StaleList
	}
	return killed, nil
}

func (f *Engine) Remove(_ context.Context, id string, withVolumes bool) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return err
	}
	f.record("remove %s", c.Name)
	if err := f.failure("remove", c.Name); err != nil {
		return err
	}
	delete(f.ByID, c.ID)
	if withVolumes {
		for _, v := range c.anonymous {
			delete(f.VolumesByName, v)
		}
	}
	return nil
}

func (f *Engine) Rename(_ context.Context, id, name string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return err
	}
	f.record("rename %s %s", c.Name, name)
	for _, o := range f.ByID {
		if o.Name == name && o != c {
			return fmt.Errorf("conflict: the container name %q is already in use", name)
		}
	}
	c.Name = name
	return nil
}

func (f *Engine) Kill(_ context.Context, id, signal string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return err
	}
	f.record("kill %s %s", c.Name, signal)
	if c.State != "running" {
		return fmt.Errorf("container %s is not running", c.Name)
	}
	c.State, c.ExitCode = "exited", 137
	return nil
}

func (f *Engine) Wait(ctx context.Context, id string) (int, error) {
	for {
		f.Mu.Lock()
		c, err := f.Find(id)
		if err != nil {
			f.Mu.Unlock()
			return 0, err
		}
		state, code := c.State, c.ExitCode
		f.Mu.Unlock()
		if state != "running" {
			return code, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (f *Engine) Pause(_ context.Context, id string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return err
	}
	f.record("pause %s", c.Name)
	c.State = "paused"
	return nil
}

func (f *Engine) Unpause(_ context.Context, id string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return err
	}
	f.record("unpause %s", c.Name)
	c.State = "running"
	return nil
}

func (f *Engine) Inspect(_ context.Context, id string) (engine.ContainerDetails, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return engine.ContainerDetails{}, err
	}
	c.stale = false
	d := engine.ContainerDetails{Container: c.Container, Running: c.State == "running", Bindings: slices.Clone(c.Spec.Ports)}
	if d.Running && !c.noPorts {
		d.Published = slices.Clone(c.Spec.Ports)
	}
	d.Labels = maps.Clone(c.Labels)
	if hc := c.Spec.Healthcheck; hc != nil && hc.Test[0] != "NONE" {
		d.Healthcheck = hc
	}
	return d, nil
}
