package fakeengine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator/engine"
)

func (f *Engine) Networks(_ context.Context, labels []string) ([]engine.Network, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []engine.Network
	for _, n := range f.NetworksByName {
		if hasLabels(n.Labels, labels) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f *Engine) Volumes(_ context.Context, labels []string) ([]engine.Volume, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []engine.Volume
	for _, v := range f.VolumesByName {
		if hasLabels(v.Labels, labels) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b engine.Volume) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *Engine) Images(context.Context) ([]engine.Image, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return slices.Clone(f.ImageList), nil
}

func (f *Engine) ImageInspect(_ context.Context, ref string) (engine.Image, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	want := engine.NormalizeRef(ref)
	for _, im := range f.ImageList {
		if im.ID == ref {
			return im, nil
		}
		for _, r := range append(slices.Clone(im.Tags), im.Digests...) {
			if engine.NormalizeRef(r) == want {
				return im, nil
			}
		}
	}
	return engine.Image{}, fmt.Errorf("image %s: %w", ref, engine.ErrNotFound)
}

func (f *Engine) Pull(_ context.Context, ref string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.record("pull %s", ref)
	if err := f.failure("pull", ref); err != nil {
		return err
	}
	id, ok := f.Pulled[ref]
	if !ok {
		return fmt.Errorf("pull %s: no such image on the fake registry", ref)
	}
	for i, im := range f.ImageList {
		if im.ID == id {
			if !slices.Contains(im.Tags, ref) {
				f.ImageList[i].Tags = append(f.ImageList[i].Tags, ref)
			}
			return nil
		}
	}
	for i := range f.ImageList {
		f.ImageList[i].Tags = slices.DeleteFunc(f.ImageList[i].Tags, func(t string) bool { return engine.NormalizeRef(t) == engine.NormalizeRef(ref) })
	}
	f.ImageList = append(f.ImageList, engine.Image{ID: id, Tags: []string{ref}})
	return nil
}

func (f *Engine) CreateNetwork(_ context.Context, spec engine.NetworkSpec) (string, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.record("create-network %s", spec.Name)
	if err := f.failure("create-network", spec.Name); err != nil {
		return "", err
	}
	f.NetworksByName[spec.Name] = engine.Network{ID: "net-" + spec.Name, Name: spec.Name, Labels: spec.Labels}
	return "net-" + spec.Name, nil
}

func (f *Engine) RemoveNetwork(_ context.Context, id string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for name, n := range f.NetworksByName {
		if n.ID == id {
			f.record("remove-network %s", name)
			delete(f.NetworksByName, name)
			return nil
		}
	}
	return engine.ErrNotFound
}

func (f *Engine) CreateVolume(_ context.Context, spec engine.VolumeSpec) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.record("create-volume %s", spec.Name)
	f.VolumesByName[spec.Name] = engine.Volume{Name: spec.Name, Labels: spec.Labels}
	return nil
}

func (f *Engine) RemoveVolume(_ context.Context, name string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.record("remove-volume %s", name)
	if err := f.failure("remove-volume", name); err != nil {
		return err
	}
	if _, ok := f.VolumesByName[name]; !ok {
		return engine.ErrNotFound
	}
	delete(f.VolumesByName, name)
	return nil
}

func (f *Engine) RemoveImage(_ context.Context, ref string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.record("remove-image %s", ref)
	return nil
}

func (f *Engine) Build(_ context.Context, spec engine.BuildSpec, tarball io.Reader, progress func(string)) (string, error) {
	_, _ = io.Copy(io.Discard, tarball)
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.record("build %s", spec.Tags[0])
	if err := f.failure("build", spec.Tags[0]); err != nil {
		return "", err
	}
	f.seq++
	id := fmt.Sprintf("sha256:built%d", f.seq)
	f.AddImage(id, spec.Tags...)
	if progress != nil {
		progress("Step 1/1 : FROM scratch")
	}
	return id, nil
}
