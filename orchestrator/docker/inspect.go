package docker

import (
	"context"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// Kill sends signal to a running container.
func (e *Engine) Kill(ctx context.Context, id, signal string) error {
	if signal == "" {
		signal = "SIGKILL"
	}
	_, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal})
	return e.wrap(err)
}

// Wait blocks until the container is not running; its exit code.
func (e *Engine) Wait(ctx context.Context, id string) (int, error) {
	res := e.cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-res.Result:
		return int(r.StatusCode), nil
	case err := <-res.Error:
		return 0, e.wrap(err)
	}
}

// Pause freezes a container's processes.
func (e *Engine) Pause(ctx context.Context, id string) error {
	_, err := e.cli.ContainerPause(ctx, id, client.ContainerPauseOptions{})
	return e.wrap(err)
}

// Unpause thaws a paused container.
func (e *Engine) Unpause(ctx context.Context, id string) error {
	_, err := e.cli.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{})
	return e.wrap(err)
}

// Rename renames a container.
func (e *Engine) Rename(ctx context.Context, id, name string) error {
	_, err := e.cli.ContainerRename(ctx, id, client.ContainerRenameOptions{NewName: name})
	return e.wrap(err)
}

// Inspect returns a container's state and healthcheck.
func (e *Engine) Inspect(ctx context.Context, id string) (orchestrator.ContainerDetails, error) {
	res, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return orchestrator.ContainerDetails{}, e.wrap(err)
	}
	r := res.Container
	d := orchestrator.ContainerDetails{}
	d.ID, d.Name, d.ImageID = r.ID, strings.TrimPrefix(r.Name, "/"), r.Image
	d.RestartCount = r.RestartCount
	if r.Config != nil {
		d.Labels, d.Image = r.Config.Labels, r.Config.Image
		if h := r.Config.Healthcheck; h != nil && len(h.Test) > 0 && h.Test[0] != "NONE" {
			d.Healthcheck = &orchestrator.Healthcheck{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
		}
	}
	if r.HostConfig != nil {
		d.RestartPolicy = string(r.HostConfig.RestartPolicy.Name)
		for port, bs := range r.HostConfig.PortBindings {
			for _, b := range bs {
				pb := orchestrator.PortBinding{HostPort: b.HostPort, Target: int(port.Num()), Protocol: string(port.Proto())}
				if b.HostIP.IsValid() {
					pb.HostIP = b.HostIP.String()
				}
				d.Bindings = append(d.Bindings, pb)
			}
		}
	}
	if st := r.State; st != nil {
		d.State, d.Running, d.Restarting, d.ExitCode = string(st.Status), st.Running, st.Restarting, st.ExitCode
		d.StartedAt, _ = time.Parse(time.RFC3339Nano, st.StartedAt)
		if st.Health != nil {
			d.Health = string(st.Health.Status)
			if n := len(st.Health.Log); n > 0 && st.Health.Log[n-1] != nil {
				d.HealthLog = strings.TrimSpace(st.Health.Log[n-1].Output)
			}
		}
	}
	for _, m := range r.Mounts {
		src := m.Source
		if m.Type == mount.TypeVolume {
			src = m.Name
		}
		d.Mounts = append(d.Mounts, orchestrator.Mount{Type: string(m.Type), Source: src, Target: m.Destination})
	}
	if ns := r.NetworkSettings; ns != nil {
		for port, bs := range ns.Ports {
			for _, b := range bs {
				pb := orchestrator.PortBinding{HostPort: b.HostPort, Target: int(port.Num()), Protocol: string(port.Proto())}
				if b.HostIP.IsValid() {
					pb.HostIP = b.HostIP.String()
				}
				d.Published = append(d.Published, pb)
			}
		}
	}
	return d, nil
}
