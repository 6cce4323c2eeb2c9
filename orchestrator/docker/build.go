package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// buildMessage is one line of the engine's build stream.
type buildMessage struct {
	Stream      string `json:"stream"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
	Aux *struct {
		ID string `json:"ID"`
	} `json:"aux"`
}

// Build runs a classic-builder build and returns the image's ID. A failed
// step comes back as *orchestrator.BuildError with the step and its last
// output; ctx ending closes the connection, which cancels the build.
func (e *Engine) Build(ctx context.Context, spec orchestrator.BuildSpec, tarball io.Reader, progress func(string)) (string, error) {
	res, err := e.cli.ImageBuild(ctx, tarball, client.ImageBuildOptions{
		Version: build.BuilderV1, Dockerfile: spec.Dockerfile, Tags: spec.Tags, BuildArgs: spec.Args, Target: spec.Target,
		Labels: spec.Labels, NetworkMode: spec.Network, ExtraHosts: spec.ExtraHosts, ShmSize: spec.ShmSize,
		NoCache: spec.NoCache, PullParent: spec.Pull, Remove: true, ForceRemove: true,
	})
	if err != nil {
		return "", e.wrap(err)
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	var id, step string
	var output []string
	for {
		var m buildMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", e.wrap(err)
		}
		if m.Aux != nil && m.Aux.ID != "" {
			id = m.Aux.ID
		}
		if msg := m.Error; msg != "" || m.ErrorDetail != nil {
			if msg == "" {
				msg = m.ErrorDetail.Message
			}
			return "", &orchestrator.BuildError{Step: step, Output: strings.Join(output, "\n"), Msg: strings.TrimSpace(msg)}
		}
		for _, line := range strings.Split(strings.TrimRight(m.Stream, "\n"), "\n") {
			if line = strings.TrimRight(line, "\r"); line == "" {
				continue
			}
			switch {
			case strings.HasPrefix(line, "Step "):
				step, output = line, nil
			case strings.HasPrefix(line, " ---> "), strings.HasPrefix(line, "Removing intermediate container"):
				// the builder's own bookkeeping, not the step's output
			default:
				output = append(output, line)
				if len(output) > 20 {
					output = output[1:]
				}
			}
			if id == "" {
				if rest, ok := strings.CutPrefix(line, "Successfully built "); ok {
					id = strings.TrimSpace(rest)
				}
			}
			if progress != nil {
				progress(line)
			}
		}
	}
	if id == "" && len(spec.Tags) > 0 {
		im, err := e.ImageInspect(ctx, spec.Tags[0])
		if err != nil {
			return "", fmt.Errorf("built image %s: %w", spec.Tags[0], err)
		}
		id = im.ID
	}
	if len(spec.Tags) > 0 {
		// The canonical ID, as the image list has it.
		if im, err := e.ImageInspect(ctx, spec.Tags[0]); err == nil {
			id = im.ID
		}
	}
	return id, nil
}
