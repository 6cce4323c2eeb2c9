package docker

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Containers lists containers matching every label (and any of the names).
func (e *Engine) Containers(ctx context.Context, lf orchestrator.ListFilter) ([]orchestrator.Container, error) {
	f := labelFilter(lf.Labels)
	if len(lf.Names) > 0 {
		f.Add("name", lf.Names...)
	}
	res, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: lf.All, Filters: f})
	if err != nil {
		return nil, e.wrap(err)
	}
	out := make([]orchestrator.Container, 0, len(res.Items))
	for _, s := range res.Items {
		c := orchestrator.Container{
			ID: s.ID, Image: s.Image, ImageID: s.ImageID, Labels: s.Labels,
			State: string(s.State), Status: s.Status, Created: time.Unix(s.Created, 0), Command: s.Command,
		}
		if s.NetworkSettings != nil {
			for n := range s.NetworkSettings.Networks {
				c.Networks = append(c.Networks, n)
			}
			sort.Strings(c.Networks)
		}
		if len(s.Names) > 0 {
			c.Name = strings.TrimPrefix(s.Names[0], "/")
		}
		c.Health = healthFromStatus(s.Status)
		if s.Health != nil && s.Health.Status != "" && s.Health.Status != "none" {
			c.Health = string(s.Health.Status)
		}
		c.ExitCode = exitFromStatus(s.Status)
		for _, p := range s.Ports {
			pb := orchestrator.PortBinding{Target: int(p.PrivatePort), Protocol: p.Type}
			if p.PublicPort != 0 {
				pb.HostPort = strconv.Itoa(int(p.PublicPort))
			}
			if p.IP.IsValid() {
				pb.HostIP = p.IP.String()
			}
			c.Ports = append(c.Ports, pb)
		}
		for _, m := range s.Mounts {
			c.Mounts = append(c.Mounts, orchestrator.Mount{Type: string(m.Type), Source: m.Source, Target: m.Destination, Driver: m.Driver})
			if m.Type == mount.TypeVolume {
				c.Mounts[len(c.Mounts)-1].Source = m.Name
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func healthFromStatus(s string) string {
	switch {
	case strings.Contains(s, "(healthy)"):
		return "healthy"
	case strings.Contains(s, "(unhealthy)"):
		return "unhealthy"
	case strings.Contains(s, "(health: starting)"):
		return "starting"
	}
	return ""
}

func exitFromStatus(s string) int {
	if !strings.HasPrefix(s, "Exited (") {
		return 0
	}
	rest := strings.TrimPrefix(s, "Exited (")
	n, _ := strconv.Atoi(rest[:max(0, strings.Index(rest, ")"))])
	return n
}

// Create creates a container from spec.
func (e *Engine) Create(ctx context.Context, s orchestrator.ContainerSpec) (string, error) {
	if err := e.Ping(ctx); err != nil {
		return "", err
	}
	modern := apiAtLeast(e.cli.ClientVersion(), 1, 44)
	cfg := containerConfig(s, modern)
	hc, err := hostConfig(s, cfg)
	if err != nil {
		return "", err
	}
	var nc *network.NetworkingConfig
	if s.NetworkMode != "" {
		hc.NetworkMode = container.NetworkMode(s.NetworkMode)
	} else if len(s.Networks) > 0 {
		hc.NetworkMode = container.NetworkMode(s.Networks[0].Name)
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}
		// API < 1.44 accepts a single network at create time; the rest are
		// connected before start.
		first := s.Networks[:1]
		if modern {
			first = s.Networks
		}
		for _, n := range first {
			nc.EndpointsConfig[n.Name] = endpoint(n)
		}
	}
	res, err := e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: s.Name, Config: cfg, HostConfig: hc, NetworkingConfig: nc})
	if err != nil {
		return "", e.wrap(err)
	}
	if !modern && s.NetworkMode == "" {
		for _, n := range s.Networks[min(1, len(s.Networks)):] {
			if _, err := e.cli.NetworkConnect(ctx, n.Name, client.NetworkConnectOptions{Container: res.ID, EndpointConfig: endpoint(n)}); err != nil {
				return res.ID, fmt.Errorf("connect %s to network %s: %w", s.Name, n.Name, e.wrap(err))
			}
		}
	}
	return res.ID, nil
}

// containerConfig is the container's own configuration; start_interval
// only from API 1.44.
func containerConfig(s orchestrator.ContainerSpec, modern bool) *container.Config {
	cfg := &container.Config{
		Hostname: s.Hostname, User: s.User, WorkingDir: s.WorkingDir, Labels: s.Labels,
		Env: s.Env, Image: s.Image, Tty: s.Tty, OpenStdin: s.OpenStdin, StdinOnce: s.StdinOnce, AttachStdin: s.StdinOnce, StopSignal: s.StopSignal,
		ExposedPorts: network.PortSet{}, StopTimeout: s.StopTimeout,
	}
	if s.Entrypoint != nil {
		cfg.Entrypoint = s.Entrypoint
	}
	if s.Cmd != nil {
		cfg.Cmd = s.Cmd
	}
	if h := s.Healthcheck; h != nil {
		cfg.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
		if modern {
			cfg.Healthcheck.StartInterval = h.StartInterval
		}
	}
	for _, x := range s.Expose {
		if p, err := network.ParsePort(x); err == nil {
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	return cfg
}

// hostConfig is the host side: restart policy, published ports (also
// exposed in cfg), mounts.
func hostConfig(s orchestrator.ContainerSpec, cfg *container.Config) (*container.HostConfig, error) {
	hc := &container.HostConfig{
		PortBindings: network.PortMap{}, Privileged: s.Privileged, Init: s.Init, ReadonlyRootfs: s.ReadOnly,
		ExtraHosts: s.ExtraHosts, CapAdd: s.CapAdd, CapDrop: s.CapDrop, ShmSize: s.ShmSize, Tmpfs: s.Tmpfs, Sysctls: s.Sysctls,
		AutoRemove: s.AutoRemove,
	}
	for _, d := range s.DNS {
		if a, err := netip.ParseAddr(d); err == nil {
			hc.DNS = append(hc.DNS, a)
		}
	}
	if s.Restart != "" {
		name, count, _ := strings.Cut(s.Restart, ":")
		hc.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyMode(name)}
		if count != "" {
			hc.RestartPolicy.MaximumRetryCount, _ = strconv.Atoi(count)
		}
	}
	for _, pb := range s.Ports {
		p, err := network.ParsePort(fmt.Sprintf("%d/%s", pb.Target, pb.Protocol))
		if err != nil {
			return nil, fmt.Errorf("container port %d/%s: %w", pb.Target, pb.Protocol, err)
		}
		cfg.ExposedPorts[p] = struct{}{}
		b := network.PortBinding{HostPort: pb.HostPort}
		if pb.HostIP != "" {
			ip, err := netip.ParseAddr(pb.HostIP)
			if err != nil {
				return nil, fmt.Errorf("host IP %q: %w", pb.HostIP, err)
			}
			b.HostIP = ip
		}
		hc.PortBindings[p] = append(hc.PortBindings[p], b)
	}
	for _, m := range s.Mounts {
		if m.Type == "bind" && (m.CreateHostPath || m.SELinux != "") {
			// A legacy bind: the engine creates a missing host path (on its
			// own host, so this holds for remote engines too) and relabels.
			hc.Binds = append(hc.Binds, bindString(m))
			continue
		}
		mm := mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		if m.Type == "bind" && m.Propagation != "" {
			mm.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(m.Propagation)}
		}
		hc.Mounts = append(hc.Mounts, mm)
	}
	return hc, nil
}

func endpoint(n orchestrator.NetworkAttach) *network.EndpointSettings {
	es := &network.EndpointSettings{Aliases: n.Aliases}
	if n.IPv4Address != "" {
		if a, err := netip.ParseAddr(n.IPv4Address); err == nil {
			es.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: a}
		}
	}
	return es
}

func apiAtLeast(v string, major, minor int) bool {
	a, b, _ := strings.Cut(v, ".")
	ma, _ := strconv.Atoi(a)
	mi, _ := strconv.Atoi(b)
	return ma > major || (ma == major && mi >= minor)
}

// Start starts a container.
func (e *Engine) Start(ctx context.Context, id string) error {
	_, err := e.cli.ContainerStart(ctx, id, client.ContainerStartOptions{})
	if err != nil && isPortInUse(err) {
		return fmt.Errorf("%w: %v", orchestrator.ErrPortInUse, err)
	}
	return e.wrap(err)
}

// isPortInUse recognises the engine's words for a host port someone else
// bound: the userland proxy's bind error, or the engine's own allocator.
func isPortInUse(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "address already in use") || strings.Contains(msg, "port is already allocated")
}

// Stop sends signal, waits timeout, then SIGKILL.
func (e *Engine) Stop(ctx context.Context, id, signal string, timeout time.Duration) (bool, error) {
	if signal == "" {
		// The image's STOPSIGNAL (postgres uses SIGINT for a fast shutdown).
		signal = "SIGTERM"
		if ins, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil && ins.Container.Config != nil && ins.Container.Config.StopSignal != "" {
			signal = ins.Container.Config.StopSignal
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wait := e.cli.ContainerWait(wctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	if _, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal}); err != nil {
		if isNotRunning(err) {
			return false, nil
		}
		return false, e.wrap(err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-wait.Result:
		return false, e.settled(ctx, id)
	case err := <-wait.Error:
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, e.wrap(err)
	case <-timer.C:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if _, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil && !isNotRunning(err) {
		return true, e.wrap(err)
	}
	select {
	case <-wait.Result:
	case <-wait.Error:
	case <-time.After(10 * time.Second):
	}
	return true, e.settled(ctx, id)
}

// settled returns once the engine's container list no longer shows id
// running. Engine 29 releases a not-running wait a few milliseconds before
// its list catches up; a caller that lists right after Stop (stop then up,
// restart) must not see the container as still running.
func (e *Engine) settled(ctx context.Context, id string) error {
	f := client.Filters{}.Add("id", id)
	for i := 0; i < 100; i++ {
		res, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			return e.wrap(err)
		}
		if len(res.Items) == 0 || res.Items[0].State != container.StateRunning {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func isNotRunning(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "is not running") || cerrdefs.IsConflict(err))
}

// Remove removes a stopped container; its anonymous volumes are kept
// unless withVolumes.
func (e *Engine) Remove(ctx context.Context, id string, withVolumes bool) error {
	_, err := e.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: withVolumes})
	if cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress") {
		// The engine is removing it already (run --rm's AutoRemove once
		// it exits): what was asked is happening; wait a little for it to
		// finish, so that its name is free when this returns.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		res := e.cli.ContainerWait(wctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionRemoved})
		select {
		case <-res.Result:
		case <-res.Error: // gone already, or the wait ended: either way not ours to report
		}
		return nil
	}
	return e.wrap(err)
}

// bindString renders a bind mount in the engine's legacy Binds syntax,
// SRC:DST[:ro][,z|Z][,propagation].
func bindString(m orchestrator.Mount) string {
	var opts []string
	if m.ReadOnly {
		opts = append(opts, "ro")
	}
	if m.SELinux != "" {
		opts = append(opts, m.SELinux)
	}
	if m.Propagation != "" {
		opts = append(opts, m.Propagation)
	}
	s := m.Source + ":" + m.Target
	if len(opts) > 0 {
		s += ":" + strings.Join(opts, ",")
	}
	return s
}
