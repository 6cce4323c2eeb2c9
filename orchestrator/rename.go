package orchestrator

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/envfile"
	"github.com/devenv-dev/devenv/orchestrator/plan"
	"github.com/devenv-dev/devenv/registry"
)

// RenameInstance renames the stopped instance p is (PROJECT-OLD) to
// PROJECT-NEW: its volumes are copied into the new instance's (the old
// ones stay, never removed here), its stopped containers and networks are
// removed (the next up creates them under the new name), its registry
// entry takes the new name with its ports, and its .env names the new
// project. It returns the old volumes, kept.
func (o *Orchestrator) RenameInstance(ctx context.Context, p *compose.Project, to string) ([]string, error) {
	to = compose.InstanceName(to)
	if p.Instance == "" {
		return nil, &compose.ConfigError{File: p.MainFile(), Msg: "this checkout is not an instance: instance rename works in a worktree, or with --instance OLD"}
	}
	if to == "" || to == p.Instance {
		return nil, &compose.ConfigError{File: p.MainFile(), Msg: fmt.Sprintf("instance rename: %q is not a new instance name", to)}
	}
	oldName, newName := p.Name(), strings.TrimSuffix(p.Name(), "-"+p.Instance)+"-"+to
	ctx, unlock, err := o.lockProject(ctx, oldName)
	if err != nil {
		return nil, err
	}
	defer unlock()
	obs, err := Observe(ctx, o.Engine, oldName, false)
	if err != nil {
		return nil, err
	}
	for _, c := range append(obs.Containers, obs.OneOffs...) {
		if c.State == "running" || c.State == "paused" || c.State == "restarting" {
			return nil, &compose.ConfigError{File: p.MainFile(), Msg: fmt.Sprintf("instance %s runs (%s); stop it first: devenv stop", p.Instance, c.Name)}
		}
	}
	if running := runningHost(o, p); running != "" {
		return nil, &compose.ConfigError{File: p.MainFile(), Msg: fmt.Sprintf("instance %s's host service %s runs; stop it first: devenv stop", p.Instance, running)}
	}
	if err := o.checkSameDir(p, obs.Containers); err != nil {
		return nil, err
	}
	reg, err := o.Registry.Load()
	if err != nil {
		return nil, err
	}
	if e := reg.Find(oldName, o.EngineKey); e == nil || e.Dir != p.Dir() {
		where := "nowhere"
		if e != nil {
			where = e.Dir
		}
		return nil, &compose.ConfigError{File: p.MainFile(), Msg: fmt.Sprintf("instance %s is not this directory's (the registry has it in %s): run devenv instance rename there", p.Instance, where)}
	}
	if err := o.renameTargetFree(ctx, p, newName); err != nil {
		return nil, err
	}
	images, err := volumeImages(p, obs)
	if err != nil {
		return nil, err
	}
	kept, err := o.copyInstanceVolumes(ctx, oldName, newName, obs, images)
	if err != nil {
		return nil, err
	}
	for _, c := range append(obs.Containers, obs.OneOffs...) {
		if err := o.Engine.Remove(ctx, c.ID, false); err != nil {
			return kept, fmt.Errorf("remove %s: %w", c.Name, err)
		}
		o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Removed", Detail: "recreated by the next up as " + newName})
	}
	for _, n := range obs.Networks {
		if n.Labels[LabelProject] == oldName {
			_ = o.Engine.RemoveNetwork(ctx, n.ID)
		}
	}
	if _, err := o.Registry.Update(ctx, func(reg *registry.Registry) (bool, error) {
		e := reg.Find(oldName, o.EngineKey)
		if e == nil {
			return false, nil
		}
		e.Name, e.Instance, e.Names = newName, to, nil // names come back with the next up
		return true, nil
	}); err != nil {
		return kept, err
	}
	full := filepath.Join(p.Dir(), ".env")
	if err := envfile.Write(p.Dir(), full, [][2]string{{"COMPOSE_PROJECT_NAME", newName}}); err != nil {
		return kept, fmt.Errorf("write %s: %w", full, err)
	}
	return kept, nil
}

// runningHost names a host service of p that runs ("" for none).
func runningHost(o *Orchestrator, p *compose.Project) string {
	if o.Hosts == nil {
		return ""
	}
	for _, name := range o.Hosts.Names(p.Name()) {
		if st, ok := o.Hosts.Status(p.Name(), name); ok && st.Running {
			return name
		}
	}
	return ""
}

// copyInstanceVolumes copies each of the old instance's volumes into a new
// one of the new name, through the archive API as seeding does; it returns
// the old volumes, which stay.
func (o *Orchestrator) copyInstanceVolumes(ctx context.Context, oldName, newName string, obs *Observed, images map[string]string) ([]string, error) {
	p := compose.Named(newName, "")
	var kept []string
	for _, v := range obs.Volumes {
		key := v.Labels[LabelVolume]
		if v.Labels[LabelProject] != oldName || key == "" {
			continue
		}
		image := images[key]
		dst := newName + "_" + key
		labels := map[string]string{LabelProject: newName, LabelVolume: key, plan.LabelVersion: plan.ComposeVersion}
		if err := o.Engine.CreateVolume(ctx, VolumeSpec{Name: dst, Labels: labels}); err != nil {
			return kept, fmt.Errorf("create volume %s: %w", dst, err)
		}
		from, err := o.seedContainer(ctx, p, image, v.Name, "from")
		if err != nil {
			return kept, err
		}
		to, err := o.seedContainer(ctx, p, image, dst, "to")
		if err == nil {
			o.emit(Event{Name: dst, Status: "Copying", Detail: "from " + v.Name})
			err = o.copyVolume(ctx, from, to)
			_ = o.Engine.Remove(context.WithoutCancel(ctx), to, true)
		}
		_ = o.Engine.Remove(context.WithoutCancel(ctx), from, true)
		if err != nil {
			return kept, fmt.Errorf("copy volume %s to %s: %w", v.Name, dst, err)
		}
		kept = append(kept, v.Name)
	}
	return kept, nil
}

// renameTargetFree refuses a new name that has a registry entry, a
// container or a volume already: a copy never goes into another's data.
func (o *Orchestrator) renameTargetFree(ctx context.Context, p *compose.Project, newName string) error {
	taken := func(what string) error {
		return &compose.ConfigError{File: p.MainFile(), Msg: fmt.Sprintf("instance rename: %s of project %s exists already; pick another name", what, newName)}
	}
	if reg, err := o.Registry.Load(); err == nil && reg.Find(newName, o.EngineKey) != nil {
		return taken("a registry entry")
	}
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject + "=" + newName}, All: true})
	if err != nil {
		return err
	}
	if len(cs) > 0 {
		return taken("container " + cs[0].Name)
	}
	vols, err := o.Engine.Volumes(ctx, []string{LabelProject + "=" + newName})
	if err != nil {
		return err
	}
	if len(vols) > 0 {
		return taken("volume " + vols[0].Name)
	}
	return nil
}

// volumeImages is, for each volume of the instance (by its key in the
// file), an image of a service that mounts it: the copy reads and writes
// through a container of it. A volume no service mounts is refused before
// anything changes, so no data is ever left behind uncopied.
func volumeImages(p *compose.Project, obs *Observed) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range p.Model.ServiceNames() {
		svc := p.Model.Services[name]
		for _, v := range svc.Volumes {
			if v.Type == "volume" && v.Source != "" {
				out[v.Source] = plan.ImageName(p.Name(), svc)
			}
		}
	}
	for _, v := range obs.Volumes {
		if key := v.Labels[LabelVolume]; key != "" && v.Labels[LabelProject] == p.Name() && out[key] == "" {
			return nil, &compose.ConfigError{File: p.MainFile(), Msg: fmt.Sprintf("instance rename: no service of the file mounts volume %s, so devenv cannot copy it; nothing was changed", v.Name)}
		}
	}
	return out, nil
}
