package orchestrator

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// fakeEngine is an in-memory Engine: containers, networks, volumes and
// images with states, port bindings, injectable failures and delays. It
// records every changing call so tests can assert order.
type fakeEngine struct {
	mu         sync.Mutex
	seq        int
	containers map[string]*fakeContainer // by ID
	networks   map[string]Network        // by name
	volumes    map[string]Volume         // by name
	images     []Image
	calls      []string

	// fail makes a call fail: key "op name", e.g. "start demo-db-1",
	// "create demo-db-1", "pull postgres:15", "remove-volume demo_data".
	fail map[string]error
	// stopDelay is how long a container takes to stop after its signal;
	// past the timeout it is killed.
	stopDelay map[string]time.Duration
	// startBlock blocks Start of a container until the context ends.
	startBlock map[string]bool
	// exitOnStart makes a container exit with that code right after start.
	exitOnStart map[string]int
	// healthy decides a container's healthcheck probe; nil means healthy.
	healthy func(name string) bool
	// pulled is the image ID a Pull of a reference leaves behind.
	pulled map[string]string
	// beforeCreate runs once before the next create (outside the lock), to
	// stage what another process did meanwhile.
	beforeCreate func(name string)
	// startWithoutPorts makes the next start of a container come up
	// without its published ports, once.
	startWithoutPorts map[string]bool
	// staleList keeps a stopped container listed as running until it is
	// inspected (Engine 29's list lags behind its wait).
	staleList bool
}

type fakeContainer struct {
	Container
	spec       ContainerSpec
	stale      bool
	noPorts    bool // running without its published ports (Engine 29 after a failed start)
	anonymous  []string
	healthcmds int
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{
		containers: map[string]*fakeContainer{}, networks: map[string]Network{}, volumes: map[string]Volume{},
		fail: map[string]error{}, stopDelay: map[string]time.Duration{}, startBlock: map[string]bool{},
		exitOnStart: map[string]int{}, pulled: map[string]string{}, startWithoutPorts: map[string]bool{},
	}
}

func (f *fakeEngine) record(format string, a ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

func (f *fakeEngine) failure(op, name string) error {
	return f.fail[op+" "+name]
}

// Calls returns the recorded calls that start with one of prefixes.
func (f *fakeEngine) Calls(prefixes ...string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		for _, p := range prefixes {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func (f *fakeEngine) addImage(id string, refs ...string) {
	im := Image{ID: id}
	for _, r := range refs {
		if strings.Contains(r, "@") {
			im.Digests = append(im.Digests, r)
		} else {
			im.Tags = append(im.Tags, r)
		}
	}
	f.images = append(f.images, im)
}

// addContainer puts a container on the engine as another tool left it.
func (f *fakeEngine) addContainer(c Container) *fakeContainer {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	if c.ID == "" {
		c.ID = fmt.Sprintf("%064x", f.seq)
	}
	if c.State == "" {
		c.State = "running"
	}
	fc := &fakeContainer{Container: c, spec: ContainerSpec{Name: c.Name, Labels: c.Labels, Ports: c.Ports}}
	f.containers[c.ID] = fc
	return fc
}

func (f *fakeEngine) byName(name string) *fakeContainer {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.containers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (f *fakeEngine) find(id string) (*fakeContainer, error) {
	if c, ok := f.containers[id]; ok {
		return c, nil
	}
	for _, c := range f.containers {
		if c.Name == id {
			return c, nil
		}
	}
	return nil, fmt.Errorf("container %s: %w", id, ErrNotFound)
}

func (f *fakeEngine) Ping(context.Context) error { return f.failure("ping", "") }

func (f *fakeEngine) Info(context.Context) (EngineInfo, error) {
	return EngineInfo{Endpoint: "fake", ServerVersion: "fake", APIVersion: "1.41"}, nil
}

func hasLabels(have map[string]string, want []string) bool {
	for _, l := range want {
		k, v, withValue := strings.Cut(l, "=")
		got, ok := have[k]
		if !ok || (withValue && got != v) {
			return false
		}
	}
	return true
}

func (f *fakeEngine) Containers(_ context.Context, lf ListFilter) ([]Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Container
	for _, c := range f.containers {
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
		if !running {
			row.Ports = nil // the engine lists ports of running containers only
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b Container) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *fakeEngine) Networks(_ context.Context, labels []string) ([]Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Network
	for _, n := range f.networks {
		if hasLabels(n.Labels, labels) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f *fakeEngine) Volumes(_ context.Context, labels []string) ([]Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Volume
	for _, v := range f.volumes {
		if hasLabels(v.Labels, labels) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b Volume) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *fakeEngine) Images(context.Context) ([]Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.images), nil
}

func (f *fakeEngine) ImageInspect(_ context.Context, ref string) (Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	want := NormalizeRef(ref)
	for _, im := range f.images {
		if im.ID == ref {
			return im, nil
		}
		for _, r := range append(slices.Clone(im.Tags), im.Digests...) {
			if NormalizeRef(r) == want {
				return im, nil
			}
		}
	}
	return Image{}, fmt.Errorf("image %s: %w", ref, ErrNotFound)
}

func (f *fakeEngine) Pull(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("pull %s", ref)
	if err := f.failure("pull", ref); err != nil {
		return err
	}
	id, ok := f.pulled[ref]
	if !ok {
		return fmt.Errorf("pull %s: no such image on the fake registry", ref)
	}
	for i, im := range f.images {
		if im.ID == id {
			if !slices.Contains(im.Tags, ref) {
				f.images[i].Tags = append(f.images[i].Tags, ref)
			}
			return nil
		}
	}
	for i := range f.images {
		f.images[i].Tags = slices.DeleteFunc(f.images[i].Tags, func(t string) bool { return NormalizeRef(t) == NormalizeRef(ref) })
	}
	f.images = append(f.images, Image{ID: id, Tags: []string{ref}})
	return nil
}

func (f *fakeEngine) CreateNetwork(_ context.Context, spec NetworkSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("create-network %s", spec.Name)
	if err := f.failure("create-network", spec.Name); err != nil {
		return "", err
	}
	f.networks[spec.Name] = Network{ID: "net-" + spec.Name, Name: spec.Name, Labels: spec.Labels}
	return "net-" + spec.Name, nil
}

func (f *fakeEngine) RemoveNetwork(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, n := range f.networks {
		if n.ID == id {
			f.record("remove-network %s", name)
			delete(f.networks, name)
			return nil
		}
	}
	return ErrNotFound
}

func (f *fakeEngine) CreateVolume(_ context.Context, spec VolumeSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("create-volume %s", spec.Name)
	f.volumes[spec.Name] = Volume{Name: spec.Name, Labels: spec.Labels}
	return nil
}

func (f *fakeEngine) RemoveVolume(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("remove-volume %s", name)
	if err := f.failure("remove-volume", name); err != nil {
		return err
	}
	if _, ok := f.volumes[name]; !ok {
		return ErrNotFound
	}
	delete(f.volumes, name)
	return nil
}

func (f *fakeEngine) Create(ctx context.Context, spec ContainerSpec) (string, error) {
	if hook := f.beforeCreate; hook != nil {
		f.beforeCreate = nil
		hook(spec.Name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("create %s", spec.Name)
	if err := f.failure("create", spec.Name); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for _, c := range f.containers {
		if c.Name == spec.Name {
			return "", fmt.Errorf("conflict: the container name %q is already in use", spec.Name)
		}
	}
	var imageID string
	for _, im := range f.images {
		for _, r := range append(slices.Clone(im.Tags), im.Digests...) {
			if NormalizeRef(r) == NormalizeRef(spec.Image) {
				imageID = im.ID
			}
		}
	}
	if imageID == "" {
		return "", fmt.Errorf("image %s: %w", spec.Image, ErrNotFound)
	}
	f.seq++
	id := fmt.Sprintf("%064x", f.seq)
	c := &fakeContainer{spec: spec, Container: Container{
		ID: id, Name: spec.Name, Image: spec.Image, ImageID: imageID, Labels: maps.Clone(spec.Labels),
		State: "created", Created: time.Now(), Ports: slices.Clone(spec.Ports),
	}}
	for _, m := range spec.Mounts {
		if m.Type == "volume" && m.Source == "" {
			f.seq++
			m.Source = fmt.Sprintf("%064x", 1<<40+f.seq)
			c.anonymous = append(c.anonymous, m.Source)
			f.volumes[m.Source] = Volume{Name: m.Source}
		}
		c.Mounts = append(c.Mounts, m)
	}
	f.containers[id] = c
	return id, nil
}

func (f *fakeEngine) Start(ctx context.Context, id string) error {
	f.mu.Lock()
	c, err := f.find(id)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	f.record("start %s", c.Name)
	if err := f.failure("start", c.Name); err != nil {
		f.mu.Unlock()
		return err
	}
	block := f.startBlock[c.Name]
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c.State, c.stale = "running", false
	c.Health = ""
	if c.spec.Healthcheck != nil && c.spec.Healthcheck.Test[0] != "NONE" {
		c.Health = "starting"
	}
	if code, ok := f.exitOnStart[c.Name]; ok {
		c.State, c.ExitCode = "exited", code
	}
	if f.startWithoutPorts[c.Name] {
		c.noPorts = true
		delete(f.startWithoutPorts, c.Name)
	}
	return nil
}

func (f *fakeEngine) Stop(ctx context.Context, id, signal string, timeout time.Duration) (bool, error) {
	f.mu.Lock()
	c, err := f.find(id)
	if err != nil {
		f.mu.Unlock()
		return false, err
	}
	f.record("stop %s", c.Name)
	if err := f.failure("stop", c.Name); err != nil {
		f.mu.Unlock()
		return false, err
	}
	delay := f.stopDelay[c.Name]
	running := c.State == "running"
	f.mu.Unlock()
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
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.State == "running" {
		c.State, c.ExitCode = "exited", 0
		if killed {
			c.ExitCode = 137
		}
		c.stale = f.staleList
	}
	return killed, nil
}

func (f *fakeEngine) Remove(_ context.Context, id string, withVolumes bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return err
	}
	f.record("remove %s", c.Name)
	if err := f.failure("remove", c.Name); err != nil {
		return err
	}
	delete(f.containers, c.ID)
	if withVolumes {
		for _, v := range c.anonymous {
			delete(f.volumes, v)
		}
	}
	return nil
}

func (f *fakeEngine) Rename(_ context.Context, id, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return err
	}
	f.record("rename %s %s", c.Name, name)
	for _, o := range f.containers {
		if o.Name == name && o != c {
			return fmt.Errorf("conflict: the container name %q is already in use", name)
		}
	}
	c.Name = name
	return nil
}

func (f *fakeEngine) Kill(_ context.Context, id, signal string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
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

func (f *fakeEngine) Events(ctx context.Context, _ []string, _, _ string) (<-chan EngineEvent, <-chan error) {
	out := make(chan EngineEvent)
	go func() { <-ctx.Done(); close(out) }()
	return out, make(chan error)
}

func (f *fakeEngine) Wait(ctx context.Context, id string) (int, error) {
	for {
		f.mu.Lock()
		c, err := f.find(id)
		if err != nil {
			f.mu.Unlock()
			return 0, err
		}
		state, code := c.State, c.ExitCode
		f.mu.Unlock()
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

func (f *fakeEngine) RemoveImage(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("remove-image %s", ref)
	return nil
}

func (f *fakeEngine) CopyFrom(context.Context, string, string) (io.ReadCloser, PathInfo, error) {
	return nil, PathInfo{}, fmt.Errorf("copy: %w", ErrNotFound)
}

func (f *fakeEngine) CopyTo(context.Context, string, string, io.Reader, bool) error { return nil }

func (f *fakeEngine) StatPath(context.Context, string, string) (PathInfo, error) {
	return PathInfo{}, ErrNotFound
}

func (f *fakeEngine) Stats(_ context.Context, id string) (Stats, error) {
	return Stats{CPUPercent: 1.5, MemUsage: 1 << 20, MemLimit: 1 << 30, PIDs: 3}, nil
}

func (f *fakeEngine) Top(_ context.Context, id string) ([]string, [][]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return nil, nil, err
	}
	return []string{"PID", "CMD"}, [][]string{{"1", c.Name}}, nil
}

func (f *fakeEngine) Pause(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return err
	}
	f.record("pause %s", c.Name)
	c.State = "paused"
	return nil
}

func (f *fakeEngine) Unpause(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return err
	}
	f.record("unpause %s", c.Name)
	c.State = "running"
	return nil
}

func (f *fakeEngine) Inspect(_ context.Context, id string) (ContainerDetails, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return ContainerDetails{}, err
	}
	c.stale = false
	d := ContainerDetails{Container: c.Container, Running: c.State == "running", Bindings: slices.Clone(c.spec.Ports)}
	if d.Running && !c.noPorts {
		d.Published = slices.Clone(c.spec.Ports)
	}
	d.Labels = maps.Clone(c.Labels)
	if hc := c.spec.Healthcheck; hc != nil && hc.Test[0] != "NONE" {
		d.Healthcheck = hc
	}
	return d, nil
}

func (f *fakeEngine) Exec(_ context.Context, id string, cmd []string) (ExecResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return ExecResult{}, err
	}
	c.healthcmds++
	if f.healthy == nil || f.healthy(c.Name) {
		c.Health = "healthy"
		return ExecResult{ExitCode: 0}, nil
	}
	return ExecResult{ExitCode: 1, Output: "not ready"}, nil
}

func (f *fakeEngine) Logs(_ context.Context, id string, _ LogOptions, stdout, _ io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "log line of %s\n", c.Name)
	return err
}

var _ Engine = (*fakeEngine)(nil)

func (f *fakeEngine) ExecAttached(_ context.Context, id string, spec ExecSpec, s Streams) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return 0, err
	}
	f.record("exec %s %s", c.Name, strings.Join(spec.Cmd, " "))
	return 0, nil
}

func (f *fakeEngine) StartAttached(ctx context.Context, id string, s Streams) (int, error) {
	if err := f.Start(ctx, id); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(id)
	if err != nil {
		return 0, err
	}
	c.State = "exited"
	return 0, nil
}

func (f *fakeEngine) Build(_ context.Context, spec BuildSpec, tarball io.Reader, progress func(string)) (string, error) {
	_, _ = io.Copy(io.Discard, tarball)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("build %s", spec.Tags[0])
	if err := f.failure("build", spec.Tags[0]); err != nil {
		return "", err
	}
	f.seq++
	id := fmt.Sprintf("sha256:built%d", f.seq)
	f.addImage(id, spec.Tags...)
	if progress != nil {
		progress("Step 1/1 : FROM scratch")
	}
	return id, nil
}
