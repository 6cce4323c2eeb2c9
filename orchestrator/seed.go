package orchestrator

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/compose"
)

// seedMount is where the seeding containers see a volume.
const seedMount = "/devenv-seed"

// seedVolumes fills this project's own named volumes (not external, not
// named in the file) from the same volumes of another instance of it (from:
// an instance's name, or "main" for the main checkout), through the
// engine's archive API: each volume is read and written through a
// container of the service's own image that is never started, so no image
// needs cp or a shell. A volume up creates now is empty and is filled; an
// existing one is filled only when empty, and one with data is refused when
// asked explicitly (strict), skipped otherwise: data is never overwritten.
// The source's running containers that use the volume are stopped while
// it is read, and started again, so the copy is consistent.
func (o *Orchestrator) seedVolumes(ctx context.Context, p *compose.Project, d *Desired, from string, strict bool, created map[string]bool) error {
	source := strings.TrimSuffix(p.Name(), "-"+p.Instance)
	if from != "main" {
		source += "-" + compose.InstanceName(from)
	}
	if source == p.Name() {
		return &compose.ConfigError{File: p.MainFile(), Msg: fmt.Sprintf("--from-instance %s: that is this instance", from)}
	}
	have := map[string]bool{}
	vols, err := o.Engine.Volumes(ctx, nil)
	if err != nil {
		return err
	}
	for _, v := range vols {
		have[v.Name] = true
	}
	for _, v := range d.Volumes {
		key := strings.TrimPrefix(v.Spec.Name, p.Name()+"_")
		if v.External || key == v.Spec.Name {
			continue // shared by every instance: nothing to fill
		}
		if !strict && !created[v.Spec.Name] {
			continue // x-devenv.instances.seed fills a volume when up creates it, once
		}
		if !have[source+"_"+key] {
			if strict {
				return &compose.ConfigError{File: p.MainFile(), Key: "volumes." + key,
					Msg: fmt.Sprintf("--from-instance %s: there is no volume %s to fill %s from", from, source+"_"+key, v.Spec.Name)}
			}
			continue
		}
		if err := o.seedVolume(ctx, p, d, key, source+"_"+key, v.Spec.Name, strict); err != nil {
			return err
		}
	}
	return nil
}

// seedVolume copies the volume src into dst, which must be empty.
func (o *Orchestrator) seedVolume(ctx context.Context, p *compose.Project, d *Desired, key, src, dst string, strict bool) error {
	image := ""
	for _, name := range sortedKeys(d.Services) {
		for _, m := range d.Services[name].Spec.Mounts {
			if m.Type == "volume" && m.Source == dst {
				image = d.Services[name].Spec.Image
			}
		}
	}
	if image == "" {
		return nil // no service of this project mounts it
	}
	to, err := o.seedContainer(ctx, p, image, dst, "to")
	if err != nil {
		return err
	}
	removeTo := func() { _ = o.Engine.Remove(context.WithoutCancel(ctx), to, true) } // its anonymous volumes only
	defer removeTo()
	empty, err := o.emptyVolume(ctx, to)
	if err != nil {
		return fmt.Errorf("volume %s: %w", dst, err)
	}
	if !empty {
		if strict {
			return &compose.ConfigError{File: p.MainFile(), Key: "volumes." + key,
				Msg: fmt.Sprintf("--from-instance: volume %s has data; devenv never overwrites it (remove it with devenv down -v first, if you mean to)", dst)}
		}
		return nil
	}
	from, err := o.seedContainer(ctx, p, image, src, "from")
	if err != nil {
		return err
	}
	defer o.Engine.Remove(context.WithoutCancel(ctx), from, true)
	if empty, err := o.emptyVolume(ctx, from); err != nil || empty {
		return err // nothing to copy: the source's containers are left running
	}
	restart, err := o.quiesce(ctx, src)
	if err == nil {
		o.emit(Event{Name: dst, Status: "Seeding", Detail: "from " + src + seedDetail(restart)})
		err = o.copyVolume(ctx, from, to)
	}
	for _, c := range restart {
		if serr := o.Engine.Start(context.WithoutCancel(ctx), c.ID); serr != nil {
			err = errors.Join(err, fmt.Errorf("start %s again: %w", c.Name, serr))
		}
	}
	if err != nil {
		// A half copy would pass for data: the volume, empty before, goes
		// (up makes it again, empty, the next time).
		removeTo()
		_ = o.Engine.RemoveVolume(context.WithoutCancel(ctx), dst)
		return fmt.Errorf("seed volume %s from %s: %w", dst, src, err)
	}
	o.emit(Event{Name: dst, Status: "Seeded", Detail: "from " + src})
	return nil
}

func seedDetail(stopped []Container) string {
	if len(stopped) == 0 {
		return " (no container was using it)"
	}
	var names []string
	for _, c := range stopped {
		names = append(names, c.Name)
	}
	return " (" + strings.Join(names, ", ") + " stopped while it is read, for a consistent copy)"
}

// quiesce stops the running containers that use the volume, and returns
// them to start again.
func (o *Orchestrator) quiesce(ctx context.Context, volume string) ([]Container, error) {
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject}})
	if err != nil {
		return nil, err
	}
	var stopped []Container
	for _, c := range cs {
		uses := slices.ContainsFunc(c.Mounts, func(m Mount) bool { return m.Type == "volume" && m.Source == volume })
		if !uses || c.State != "running" {
			continue
		}
		if _, err := o.Engine.Stop(ctx, c.ID, "", 10*time.Second); err != nil {
			return stopped, fmt.Errorf("stop %s to read %s: %w", c.Name, volume, err) // the caller starts those stopped
		}
		stopped = append(stopped, c)
	}
	return stopped, nil
}

// seedContainer creates (never starts) a container of image with volume
// mounted at seedMount, labelled for the project.
func (o *Orchestrator) seedContainer(ctx context.Context, p *compose.Project, image, volume, role string) (string, error) {
	spec := ContainerSpec{
		Name:   p.Name() + "-seed-" + role + "-" + randomID(),
		Image:  image,
		Labels: map[string]string{LabelProject: p.Name(), LabelOneoff: "True", LabelService: "devenv-seed"},
		Mounts: []Mount{{Type: "volume", Source: volume, Target: seedMount}},
	}
	id, err := o.Engine.Create(ctx, spec)
	if err != nil {
		if id != "" {
			_ = o.Engine.Remove(context.WithoutCancel(ctx), id, false)
		}
		return "", fmt.Errorf("a container to reach volume %s: %w", volume, err)
	}
	return id, nil
}

// emptyVolume says whether the volume seen by the container holds nothing.
func (o *Orchestrator) emptyVolume(ctx context.Context, id string) (bool, error) {
	rc, _, err := o.Engine.CopyFrom(ctx, id, seedMount+"/.")
	if err != nil {
		return false, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if name := strings.Trim(h.Name, "./"); name != "" {
			return false, nil
		}
	}
}

// copyVolume streams the source volume's files into the target volume,
// owners and modes kept.
func (o *Orchestrator) copyVolume(ctx context.Context, from, to string) error {
	rc, _, err := o.Engine.CopyFrom(ctx, from, seedMount+"/.")
	if err != nil {
		return err
	}
	defer rc.Close()
	return o.Engine.CopyTo(ctx, to, seedMount, rc, true)
}
