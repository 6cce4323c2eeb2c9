// Package fakeengine is an in-memory container engine (engine.Engine) for
// tests: containers, networks, volumes and images with states, port
// bindings, injectable failures and delays. It records every changing call
// so tests can assert their order. The orchestrator's tests and the CLI's
// (which run devenv's commands against it) share it.
package fakeengine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/devenv-dev/devenv/orchestrator/engine"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Engine is the in-memory engine. Its fields are the tests' handles: what
// is on it (ByID, NetworksByName, VolumesByName, ImageList, guarded by Mu),
// the changing calls so far (Log, "start demo-db-1"), and the behaviour
// to stage.
type Engine struct {
	Mu             sync.Mutex
	seq            int
	named          map[string]int
	ByID           map[string]*Container
	NetworksByName map[string]engine.Network
	VolumesByName  map[string]engine.Volume
	ImageList      []engine.Image
	Log            []string

	// Fail makes a call fail: key "op name", e.g. "start demo-db-1",
	// "create demo-db-1", "pull postgres:15", "remove-volume demo_data".
	Fail map[string]error
	// StopDelay is how long a container takes to stop after its signal;
	// past the timeout it is killed.
	StopDelay map[string]time.Duration
	// StartBlock blocks Start of a container until the context ends.
	StartBlock map[string]bool
	// ExitOnStart makes a container exit with that code right after start.
	ExitOnStart map[string]int
	// Healthy decides a container's healthcheck probe; nil means healthy.
	Healthy func(name string) bool
	// Pulled is the image ID a Pull of a reference leaves behind.
	Pulled map[string]string
	// BeforeCreate runs once before the next create (outside the lock), to
	// stage what another process did meanwhile.
	BeforeCreate func(name string)
	// StartWithoutPorts makes the next start of a container come up
	// without its published ports, once.
	StartWithoutPorts map[string]bool
	// StaleList keeps a stopped container listed as running until it is
	// inspected (Engine 29's list lags behind its wait).
	StaleList bool
}

// Container is a container on the fake engine: what the engine lists, the
// spec it was created from, and how often its healthcheck was run.
type Container struct {
	engine.Container
	Spec       engine.ContainerSpec
	HealthCmds int
	stale      bool
	noPorts    bool // running without its published ports (Engine 29 after a failed start)
	anonymous  []string
}

// New is an empty engine.
func New() *Engine {
	return &Engine{
		ByID: map[string]*Container{}, NetworksByName: map[string]engine.Network{}, VolumesByName: map[string]engine.Volume{},
		Fail: map[string]error{}, StopDelay: map[string]time.Duration{}, StartBlock: map[string]bool{},
		ExitOnStart: map[string]int{}, Pulled: map[string]string{}, StartWithoutPorts: map[string]bool{},
	}
}

func (f *Engine) record(format string, a ...any) {
	f.Log = append(f.Log, fmt.Sprintf(format, a...))
}

func (f *Engine) failure(op, name string) error {
	return f.Fail[op+" "+name]
}

// Calls returns the recorded Log that start with one of prefixes.
func (f *Engine) Calls(prefixes ...string) []string {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []string
	for _, c := range f.Log {
		for _, p := range prefixes {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// AddImage puts an image with these tags and digests on the engine.
func (f *Engine) AddImage(id string, refs ...string) {
	im := engine.Image{ID: id, Created: time.Now().Add(-48 * time.Hour)}
	for _, r := range refs {
		if strings.Contains(r, "@") {
			im.Digests = append(im.Digests, r)
		} else {
			im.Tags = append(im.Tags, r)
		}
	}
	f.ImageList = append(f.ImageList, im)
}

// AddContainer puts a container on the engine as another tool left it.
func (f *Engine) AddContainer(c engine.Container) *Container {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.seq++
	if c.ID == "" {
		c.ID = f.containerID(c.Name)
	}
	if c.State == "" {
		c.State = "running"
	}
	fc := &Container{Container: c, Spec: engine.ContainerSpec{Name: c.Name, Labels: c.Labels, Ports: c.Ports}}
	f.ByID[c.ID] = fc
	return fc
}

// containerID is a new container's ID: 64 hex digits from its name and how
// many of that name came before (the same whatever order containers are
// created in), the first 12 (what ps shows) differing between containers.
func (f *Engine) containerID(name string) string {
	if f.named == nil {
		f.named = map[string]int{}
	}
	f.named[name]++
	sum := sha256.Sum256([]byte(fmt.Sprint("container ", name, " ", f.named[name])))
	return hex.EncodeToString(sum[:])
}

// ByName is the container of that name, or nil.
func (f *Engine) ByName(name string) *Container {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for _, c := range f.ByID {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Find is the container of that ID or name; the caller holds Mu.
func (f *Engine) Find(id string) (*Container, error) {
	if c, ok := f.ByID[id]; ok {
		return c, nil
	}
	for _, c := range f.ByID {
		if c.Name == id {
			return c, nil
		}
	}
	return nil, fmt.Errorf("container %s: %w", id, engine.ErrNotFound)
}

func (f *Engine) Ping(context.Context) error { return f.failure("ping", "") }

func (f *Engine) Info(context.Context) (engine.EngineInfo, error) {
	return engine.EngineInfo{Endpoint: "fake", ServerVersion: "fake", APIVersion: "1.41"}, nil
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

func (f *Engine) Events(ctx context.Context, _ []string, _, _ string) (<-chan engine.EngineEvent, <-chan error) {
	out := make(chan engine.EngineEvent)
	go func() { <-ctx.Done(); close(out) }()
	return out, make(chan error)
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

func (f *Engine) RemoveImage(_ context.Context, ref string) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.record("remove-image %s", ref)
	return nil
}

func (f *Engine) CopyFrom(context.Context, string, string) (io.ReadCloser, engine.PathInfo, error) {
	return nil, engine.PathInfo{}, fmt.Errorf("copy: %w", engine.ErrNotFound)
}

func (f *Engine) CopyTo(context.Context, string, string, io.Reader, bool) error { return nil }

func (f *Engine) StatPath(context.Context, string, string) (engine.PathInfo, error) {
	return engine.PathInfo{}, engine.ErrNotFound
}

func (f *Engine) Stats(_ context.Context, id string) (engine.Stats, error) {
	return engine.Stats{CPUPercent: 1.5, MemUsage: 1 << 20, MemLimit: 1 << 30, PIDs: 3}, nil
}

func (f *Engine) Top(_ context.Context, id string) ([]string, [][]string, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return nil, nil, err
	}
	return []string{"PID", "CMD"}, [][]string{{"1", c.Name}}, nil
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

func (f *Engine) Exec(_ context.Context, id string, cmd []string) (engine.ExecResult, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return engine.ExecResult{}, err
	}
	c.HealthCmds++
	if f.Healthy == nil || f.Healthy(c.Name) {
		c.Health = "healthy"
		return engine.ExecResult{ExitCode: 0}, nil
	}
	return engine.ExecResult{ExitCode: 1, Output: "not ready"}, nil
}

func (f *Engine) Logs(_ context.Context, id string, _ engine.LogOptions, stdout, _ io.Writer) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "log line of %s\n", c.Name)
	return err
}

var _ engine.Engine = (*Engine)(nil)

func (f *Engine) ExecAttached(_ context.Context, id string, spec engine.ExecSpec, s engine.Streams) (int, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return 0, err
	}
	f.record("exec %s %s", c.Name, strings.Join(spec.Cmd, " "))
	return 0, nil
}

func (f *Engine) StartAttached(ctx context.Context, id string, s engine.Streams) (int, error) {
	if err := f.Start(ctx, id); err != nil {
		return 0, err
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return 0, err
	}
	c.State = "exited"
	return 0, nil
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
