package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Engine is orchestrator.Engine over the Docker Engine API.
type Engine struct {
	ep  Endpoint
	cli *client.Client
	ssh *sshTransport
	// Probe is the relay's probe port, for a forward over ssh (see
	// sshTransport.forwards); none: connections go through the relay.
	Probe forward.Probe

	once    sync.Once
	info    orchestrator.EngineInfo
	infoErr error

	pingOnce sync.Once
	pingErr  error

	idOnce sync.Once
	id     string
	idErr  error

	// RelayBinary is the devenv the relay image of a remote engine is
	// built from.
	RelayBinary RelayBinary
}

var _ orchestrator.Engine = (*Engine)(nil)

// New connects lazily: nothing is sent until the first call. The API version
// is negotiated with the engine, never pinned. A non-nil trace gets one line
// per API request and response with the time since New, for DEVENV_DEBUG=api.
func New(ep Endpoint, trace io.Writer) (*Engine, error) {
	// The client negotiates the API version with the engine on first use.
	opts := []client.Opt{client.WithUserAgent("devenv")}
	if trace != nil {
		start := time.Now()
		var mu sync.Mutex
		logf := func(format string, a ...any) {
			mu.Lock()
			fmt.Fprintf(trace, "api %7.1fms "+format+"\n", append([]any{float64(time.Since(start).Microseconds()) / 1000}, a...)...)
			mu.Unlock()
		}
		opts = append(opts,
			client.WithHTTPRequestHook(func(r *http.Request) error { logf("→ %s %s", r.Method, r.URL.Path); return nil }),
			client.WithHTTPResponseHook(func(r *http.Response) { logf("← %d %s", r.StatusCode, r.Request.URL.Path) }))
	}
	var ssh *sshTransport
	if strings.HasPrefix(ep.Host, "ssh://") {
		var err error
		if ssh, err = newSSHTransport(ep.Host, !ep.PrivateSSH); err != nil {
			return nil, err
		}
		opts = append(opts, client.WithHost("http://docker.example"), client.WithDialContext(ssh.dial))
	} else {
		opts = append(opts, client.WithHost(ep.Host))
	}
	if ep.TLS {
		opts = append(opts, client.WithTLSClientConfig(
			filepath.Join(ep.CertPath, "ca.pem"), filepath.Join(ep.CertPath, "cert.pem"), filepath.Join(ep.CertPath, "key.pem")))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker engine at %s (from %s): %w", ep.Host, ep.How, err)
	}
	return &Engine{ep: ep, cli: cli, ssh: ssh}, nil
}

// Endpoint is where this engine is.
func (e *Engine) Endpoint() Endpoint { return e.ep }

// Close releases the client, and the SSH connection.
func (e *Engine) Close() error {
	err := e.cli.Close()
	if e.ssh != nil {
		e.ssh.close()
	}
	return err
}

func (e *Engine) wrap(err error) error {
	if err == nil {
		return nil
	}
	if client.IsErrConnectionFailed(err) || isDialErr(err) {
		return fmt.Errorf("%w: %s (chosen by %s): %v", orchestrator.ErrEngineUnreachable, e.ep.Host, e.ep.How, err)
	}
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%w: %v", orchestrator.ErrNotFound, err)
	}
	return err
}

func isDialErr(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connect: permission denied") || strings.Contains(s, "connect: no such file") ||
		strings.Contains(s, "connection refused") || strings.Contains(s, "dial-stdio")
}

// Ping checks once that the engine answers; it negotiates the API version.
func (e *Engine) Ping(ctx context.Context) error {
	e.pingOnce.Do(func() {
		_, err := e.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		e.pingErr = e.wrap(err)
	})
	return e.pingErr
}

// Info asks the engine for its version once; it also negotiates the API.
func (e *Engine) Info(ctx context.Context) (orchestrator.EngineInfo, error) {
	e.once.Do(func() {
		v, err := e.cli.ServerVersion(ctx, client.ServerVersionOptions{})
		if err != nil {
			e.infoErr = e.wrap(err)
			return
		}
		e.info = orchestrator.EngineInfo{
			Endpoint: e.ep.Host, How: e.ep.How, ServerVersion: v.Version,
			APIVersion: e.cli.ClientVersion(), OS: v.Os, Remote: e.ep.Remote,
		}
	})
	return e.info, e.infoErr
}

// ID is the engine's own ID, from /info: the same engine reached over
// tcp and over ssh has one ID.
func (e *Engine) ID(ctx context.Context) (string, error) {
	e.idOnce.Do(func() {
		res, err := e.cli.Info(ctx, client.InfoOptions{})
		if err != nil {
			e.idErr = e.wrap(err)
			return
		}
		e.id = res.Info.ID
		if e.id == "" {
			e.idErr = fmt.Errorf("engine %s reports no ID", e.ep.Host)
		}
	})
	return e.id, e.idErr
}

func labelFilter(labels []string) client.Filters {
	f := client.Filters{}
	if len(labels) > 0 {
		f.Add("label", labels...)
	}
	return f
}

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

// Kill sends signal to a running container.
func (e *Engine) Kill(ctx context.Context, id, signal string) error {
	if signal == "" {
		signal = "SIGKILL"
	}
	_, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal})
	return e.wrap(err)
}

// Events streams container events with every label.
func (e *Engine) Events(ctx context.Context, labels []string, since, until string) (<-chan orchestrator.EngineEvent, <-chan error) {
	f := labelFilter(labels).Add("type", "container")
	res := e.cli.Events(ctx, client.EventsListOptions{Since: since, Until: until, Filters: f})
	out := make(chan orchestrator.EngineEvent)
	errs := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case m, ok := <-res.Messages:
				if !ok {
					return
				}
				ev := orchestrator.EngineEvent{Type: string(m.Type), Action: string(m.Action), ID: m.Actor.ID, Time: time.Unix(0, m.TimeNano), Attributes: m.Actor.Attributes}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-res.Err:
				if err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
					errs <- e.wrap(err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errs
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

// RemoveImage removes an image.
func (e *Engine) RemoveImage(ctx context.Context, ref string) error {
	_, err := e.cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{})
	return e.wrap(err)
}

// CopyFrom streams a tar of path in the container.
func (e *Engine) CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, orchestrator.PathInfo, error) {
	res, err := e.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		return nil, orchestrator.PathInfo{}, e.wrap(err)
	}
	return res.Content, orchestrator.PathInfo{Name: res.Stat.Name, IsDir: res.Stat.Mode.IsDir()}, nil
}

// CopyTo extracts a tar into dir in the container.
func (e *Engine) CopyTo(ctx context.Context, id, dir string, content io.Reader, owners bool) error {
	_, err := e.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: dir, Content: content, CopyUIDGID: owners})
	return e.wrap(err)
}

// StatPath says what path is in the container.
func (e *Engine) StatPath(ctx context.Context, id, path string) (orchestrator.PathInfo, error) {
	res, err := e.cli.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: path})
	if err != nil {
		return orchestrator.PathInfo{}, e.wrap(err)
	}
	return orchestrator.PathInfo{Name: res.Stat.Name, IsDir: res.Stat.Mode.IsDir(), LinkTarget: res.Stat.LinkTarget}, nil
}

// Stats samples the container once, with the previous sample for CPU, and
// computes what docker stats shows.
func (e *Engine) Stats(ctx context.Context, id string) (orchestrator.Stats, error) {
	res, err := e.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{IncludePreviousSample: true})
	if err != nil {
		return orchestrator.Stats{}, e.wrap(err)
	}
	defer res.Body.Close()
	var v container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		return orchestrator.Stats{}, fmt.Errorf("stats of %s: %w", id, err)
	}
	st := orchestrator.Stats{MemLimit: v.MemoryStats.Limit, PIDs: v.PidsStats.Current}
	cpu := float64(v.CPUStats.CPUUsage.TotalUsage) - float64(v.PreCPUStats.CPUUsage.TotalUsage)
	sys := float64(v.CPUStats.SystemUsage) - float64(v.PreCPUStats.SystemUsage)
	cpus := float64(v.CPUStats.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(v.CPUStats.CPUUsage.PercpuUsage))
	}
	if cpu > 0 && sys > 0 {
		st.CPUPercent = cpu / sys * cpus * 100
	}
	// As docker stats: the page cache does not count as used.
	st.MemUsage = v.MemoryStats.Usage
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if c, ok := v.MemoryStats.Stats[k]; ok && c < st.MemUsage {
			st.MemUsage -= c
			break
		}
	}
	for _, n := range v.Networks {
		st.NetRx += n.RxBytes
		st.NetTx += n.TxBytes
	}
	for _, b := range v.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(b.Op) {
		case "read":
			st.BlockRead += b.Value
		case "write":
			st.BlockWrite += b.Value
		}
	}
	return st, nil
}

// Top lists a running container's processes.
func (e *Engine) Top(ctx context.Context, id string) ([]string, [][]string, error) {
	res, err := e.cli.ContainerTop(ctx, id, client.ContainerTopOptions{})
	if err != nil {
		return nil, nil, e.wrap(err)
	}
	return res.Titles, res.Processes, nil
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

// Exec runs cmd in the container and returns its exit code and output.
func (e *Engine) Exec(ctx context.Context, id string, cmd []string) (orchestrator.ExecResult, error) {
	cr, err := e.cli.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return orchestrator.ExecResult{}, e.wrap(err)
	}
	att, err := e.cli.ExecAttach(ctx, cr.ID, client.ExecAttachOptions{})
	if err != nil {
		return orchestrator.ExecResult{}, e.wrap(err)
	}
	var out strings.Builder
	done := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&limitWriter{w: &out, n: 4096}, &limitWriter{w: &out, n: 4096}, att.Reader)
		done <- err
	}()
	select {
	case <-done:
	case <-ctx.Done():
		att.Close()
		return orchestrator.ExecResult{}, ctx.Err()
	}
	att.Close()
	ins, err := e.cli.ExecInspect(ctx, cr.ID, client.ExecInspectOptions{})
	if err != nil {
		return orchestrator.ExecResult{}, e.wrap(err)
	}
	return orchestrator.ExecResult{ExitCode: ins.ExitCode, Output: out.String()}, nil
}

type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// Logs copies a container's logs, demultiplexed unless it has a TTY.
func (e *Engine) Logs(ctx context.Context, id string, o orchestrator.LogOptions, stdout, stderr io.Writer) error {
	ins, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return e.wrap(err)
	}
	tail := o.Tail
	if tail == "" {
		tail = "all"
	}
	rc, err := e.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: tail, Timestamps: o.Timestamps, Since: o.Since, Until: o.Until})
	if err != nil {
		return e.wrap(err)
	}
	defer rc.Close()
	if ins.Container.Config != nil && ins.Container.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
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
