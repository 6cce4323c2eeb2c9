package docker

import (
	"context"
	"errors"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/moby/moby/client"
)

// Networks lists networks with every label.
func (e *Engine) Networks(ctx context.Context, labels []string) ([]orchestrator.Network, error) {
	res, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: labelFilter(labels)})
	if err != nil {
		return nil, e.wrap(err)
	}
	out := make([]orchestrator.Network, 0, len(res.Items))
	for _, n := range res.Items {
		out = append(out, orchestrator.Network{ID: n.ID, Name: n.Name, Labels: n.Labels})
	}
	return out, nil
}

// Volumes lists volumes with every label.
func (e *Engine) Volumes(ctx context.Context, labels []string) ([]orchestrator.Volume, error) {
	res, err := e.cli.VolumeList(ctx, client.VolumeListOptions{Filters: labelFilter(labels)})
	if err != nil {
		return nil, e.wrap(err)
	}
	out := make([]orchestrator.Volume, 0, len(res.Items))
	for _, v := range res.Items {
		out = append(out, orchestrator.Volume{Name: v.Name, Labels: v.Labels, Driver: v.Driver, Mountpoint: v.Mountpoint, Scope: v.Scope})
	}
	return out, nil
}

// Images lists local images.
func (e *Engine) Images(ctx context.Context) ([]orchestrator.Image, error) {
	res, err := e.cli.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		return nil, e.wrap(err)
	}
	out := make([]orchestrator.Image, 0, len(res.Items))
	for _, im := range res.Items {
		out = append(out, orchestrator.Image{ID: im.ID, Tags: im.RepoTags, Digests: im.RepoDigests})
	}
	return out, nil
}

// ImageInspect returns one image with its VOLUME paths.
func (e *Engine) ImageInspect(ctx context.Context, ref string) (orchestrator.Image, error) {
	res, err := e.cli.ImageInspect(ctx, ref)
	if err != nil {
		return orchestrator.Image{}, e.wrap(err)
	}
	im := orchestrator.Image{ID: res.ID, Tags: res.RepoTags, Size: res.Size, Platform: res.Os + "/" + res.Architecture,
		LastTagTime: res.Metadata.LastTagTime}
	im.Created, _ = time.Parse(time.RFC3339Nano, res.Created)
	if res.Config != nil {
		for v := range res.Config.Volumes {
			im.Volumes = append(im.Volumes, v)
		}
	}
	return im, nil
}

// Pull pulls ref and waits for the pull to finish.
func (e *Engine) Pull(ctx context.Context, ref string) error {
	resp, err := e.cli.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return e.wrap(err)
	}
	defer resp.Close()
	for msg, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return e.wrap(err)
		}
		if msg.Error != nil {
			return errors.New(msg.Error.Message)
		}
	}
	return nil
}

// CreateNetwork creates a network.
func (e *Engine) CreateNetwork(ctx context.Context, s orchestrator.NetworkSpec) (string, error) {
	res, err := e.cli.NetworkCreate(ctx, s.Name, client.NetworkCreateOptions{Driver: s.Driver, Labels: s.Labels, Internal: s.Internal, Options: s.Options})
	if err != nil {
		return "", e.wrap(err)
	}
	return res.ID, nil
}

// RemoveNetwork removes a network.
func (e *Engine) RemoveNetwork(ctx context.Context, id string) error {
	_, err := e.cli.NetworkRemove(ctx, id, client.NetworkRemoveOptions{})
	return e.wrap(err)
}

// CreateVolume creates a volume.
func (e *Engine) CreateVolume(ctx context.Context, s orchestrator.VolumeSpec) error {
	_, err := e.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: s.Name, Driver: s.Driver, DriverOpts: s.Options, Labels: s.Labels})
	return e.wrap(err)
}

// RemoveVolume removes a volume.
func (e *Engine) RemoveVolume(ctx context.Context, name string) error {
	_, err := e.cli.VolumeRemove(ctx, name, client.VolumeRemoveOptions{})
	return e.wrap(err)
}

// RemoveImage removes an image.
func (e *Engine) RemoveImage(ctx context.Context, ref string) error {
	_, err := e.cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{})
	return e.wrap(err)
}
