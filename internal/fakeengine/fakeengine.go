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
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/engine"
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
	// Files are what each named volume holds, by path, for the archive
	// calls (CopyFrom and CopyTo through a mount of the volume).
	Files     map[string]map[string][]byte
	ImageList []engine.Image
	Log       []string

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
		ByID: map[string]*Container{}, NetworksByName: map[string]engine.Network{}, VolumesByName: map[string]engine.Volume{}, Files: map[string]map[string][]byte{},
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

var _ engine.Engine = (*Engine)(nil)
