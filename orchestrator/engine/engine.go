// Package engine is the port devenv drives containers through: the Engine
// interface and the types it speaks, in devenv's own words. The Docker
// adapter (orchestrator/docker) implements it, and internal/fakeengine
// implements it in memory for tests; orchestrator re-exports every name.
package engine

import (
	"context"
	"errors"
	"fmt"
	"github.com/devenv-dev/devenv/internal/errdefs"
	"io"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/registry"
)

// ErrNotFound is returned by an Engine for a missing image, container,
// network or volume.
var ErrNotFound = errors.New("not found")

// ErrEngineUnreachable wraps every failure to reach the engine; exit code 4.
var ErrEngineUnreachable = errdefs.New("docker engine unreachable", errdefs.ErrUnreachable)

// ErrPortInUse is an engine refusing to start a container because one of
// its host ports is taken (something bound it after devenv checked); it
// unwraps to registry.ErrConflict, exit code 3.
var ErrPortInUse = portInUse{}

type portInUse struct{}

func (portInUse) Error() string { return "host port already in use" }
func (portInUse) Unwrap() error { return registry.ErrConflict }

// Engine is the part of a container engine devenv uses, in devenv's own types.
type Engine interface {
	// Ping checks the engine answers (and negotiates the API version).
	Ping(ctx context.Context) error
	Info(ctx context.Context) (EngineInfo, error)
	Containers(ctx context.Context, f ListFilter) ([]Container, error)
	Networks(ctx context.Context, labels []string) ([]Network, error)
	Volumes(ctx context.Context, labels []string) ([]Volume, error)
	Images(ctx context.Context) ([]Image, error)
	ImageInspect(ctx context.Context, ref string) (Image, error)
	Pull(ctx context.Context, ref string) error
	CreateNetwork(ctx context.Context, spec NetworkSpec) (string, error)
	RemoveNetwork(ctx context.Context, id string) error
	CreateVolume(ctx context.Context, spec VolumeSpec) error
	RemoveVolume(ctx context.Context, name string) error
	Create(ctx context.Context, spec ContainerSpec) (string, error)
	Start(ctx context.Context, id string) error
	// Stop sends the stop signal, waits up to timeout, then kills; killed
	// says whether the kill was needed.
	Stop(ctx context.Context, id string, signal string, timeout time.Duration) (killed bool, err error)
	// Remove removes a container; anonymous volumes go with it only when
	// withVolumes (down -v).
	Remove(ctx context.Context, id string, withVolumes bool) error
	Rename(ctx context.Context, id, name string) error
	// Kill sends signal (default SIGKILL) to a running container.
	Kill(ctx context.Context, id, signal string) error
	Pause(ctx context.Context, id string) error
	// Events streams the engine's container events for the labels until ctx
	// ends (or until, when set); since and until as the engine takes them.
	Events(ctx context.Context, labels []string, since, until string) (<-chan EngineEvent, <-chan error)
	// Wait blocks until the container is not running and returns its exit
	// code.
	Wait(ctx context.Context, id string) (int, error)
	// RemoveImage removes an image by reference or ID.
	RemoveImage(ctx context.Context, ref string) error
	// CopyFrom streams a tar of path in the container, and what path is.
	CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, PathInfo, error)
	// CopyTo extracts the tar content into the directory dir of the
	// container; with owners, files keep the archive's user and group IDs
	// (cp -a) instead of the container's root.
	CopyTo(ctx context.Context, id, dir string, content io.Reader, owners bool) error
	// StatPath says what path is in the container (ErrNotFound if nothing).
	StatPath(ctx context.Context, id, path string) (PathInfo, error)
	// Stats samples a running container's resource use once (over about a
	// second, for the CPU share).
	Stats(ctx context.Context, id string) (Stats, error)
	// Top lists a running container's processes, as ps prints them.
	Top(ctx context.Context, id string) (titles []string, processes [][]string, err error)
	Unpause(ctx context.Context, id string) error
	Inspect(ctx context.Context, id string) (ContainerDetails, error)
	Exec(ctx context.Context, id string, cmd []string) (ExecResult, error)
	// Build builds an image with the engine's classic builder from a
	// context tar, passing each line of output to progress, and returns
	// the image's ID.
	Build(ctx context.Context, spec BuildSpec, context io.Reader, progress func(line string)) (string, error)
	// ExecAttached runs a command in a running container with the streams
	// attached and returns the command's exit code.
	ExecAttached(ctx context.Context, id string, spec ExecSpec, s Streams) (int, error)
	// StartAttached attaches the streams to a created container, starts it
	// and returns its exit code once it has exited.
	StartAttached(ctx context.Context, id string, s Streams) (int, error)
	Logs(ctx context.Context, id string, o LogOptions, stdout, stderr io.Writer) error
}

// EngineInfo describes the engine and how devenv reached it.
type EngineInfo struct {
	Endpoint      string `json:"endpoint"`
	How           string `json:"how"`
	ServerVersion string `json:"server_version"`
	APIVersion    string `json:"api_version"`
	OS            string `json:"os"`
	Remote        bool   `json:"remote"`
}

// ListFilter selects containers.
type ListFilter struct {
	Labels []string // key=value or key
	Names  []string
	All    bool
}

// PortBinding is a published port.
type PortBinding struct {
	HostIP   string
	HostPort string // "" lets the engine choose; may be a range
	Target   int
	Protocol string
}

// Mount is a volume, bind or tmpfs mount.
type Mount struct {
	Type     string // volume, bind, tmpfs
	Source   string // volume name or host path
	Target   string
	ReadOnly bool
	// Bind options of compose's short syntax: create a missing host path
	// (as the engine does for a legacy bind), relabel for SELinux ("z" or
	// "Z"), mount propagation ("rprivate", "shared", ...).
	CreateHostPath bool
	SELinux        string
	Propagation    string
	// Driver is a volume's driver, as the engine lists it.
	Driver string
}

// Container is one row of a container list.
type Container struct {
	ID       string
	Name     string
	Image    string
	ImageID  string
	Labels   map[string]string
	State    string // created, running, exited, paused, restarting, dead
	Status   string // human text, e.g. "Up 2 minutes (healthy)"
	Health   string // healthy, unhealthy, starting, or ""
	ExitCode int
	Created  time.Time
	Ports    []PortBinding
	Mounts   []Mount
	// Command is the container's command line, as the engine lists it.
	Command string
	// Networks are the names of the networks it is attached to.
	Networks []string
}

// ContainerDetails is what Inspect adds.
type ContainerDetails struct {
	Container
	Running    bool
	Restarting bool
	StartedAt  time.Time
	HealthLog  string // output of the last health probe
	// Healthcheck is the effective test (service's or image's); nil if none.
	Healthcheck *Healthcheck
	// RestartPolicy as the engine has it, e.g. "no", "always"; RestartCount
	// how often the engine restarted it by that policy.
	RestartPolicy string
	RestartCount  int
	// Bindings are the published ports the container was created with
	// (the list shows ports of running containers only).
	Bindings []PortBinding
	// Published are the host ports the running container actually has.
	Published []PortBinding
}

// Healthcheck is a container healthcheck.
type Healthcheck struct {
	Test          []string // CMD..., CMD-SHELL x, or NONE
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	Retries       int
}

// Network is a network on the engine.
type Network struct {
	ID     string
	Name   string
	Labels map[string]string
}

// Volume is a volume on the engine.
type Volume struct {
	Name       string
	Labels     map[string]string
	Driver     string
	Mountpoint string
	Scope      string
}

// Image is a local image.
type Image struct {
	ID       string
	Tags     []string
	Digests  []string // repo@sha256:… references the image is known by
	Volumes  []string // the image's VOLUME paths
	Size     int64
	Created  time.Time
	Platform string // os/architecture
	// LastTagTime is when the engine last tagged the image here.
	LastTagTime time.Time
}

// PathInfo is a path in a container.
type PathInfo struct {
	Name  string
	IsDir bool
	// LinkTarget is where a symlink points ("" for anything else).
	LinkTarget string
}

// Stats is one sample of a container's resource use.
type Stats struct {
	CPUPercent            float64
	MemUsage, MemLimit    uint64
	NetRx, NetTx          uint64
	BlockRead, BlockWrite uint64
	PIDs                  uint64
}

// EngineEvent is one event of the engine's stream.
type EngineEvent struct {
	Type, Action, ID string
	Time             time.Time
	Attributes       map[string]string
}

// NetworkSpec creates a network.
type NetworkSpec struct {
	Name     string
	Driver   string
	Labels   map[string]string
	Internal bool
	Options  map[string]string
}

// VolumeSpec creates a volume.
type VolumeSpec struct {
	Name    string
	Driver  string
	Labels  map[string]string
	Options map[string]string
}

// ContainerSpec creates a container.
type ContainerSpec struct {
	Name        string
	Image       string
	Hostname    string
	User        string
	WorkingDir  string
	Labels      map[string]string
	Env         []string
	Entrypoint  []string
	Cmd         []string
	Healthcheck *Healthcheck
	Ports       []PortBinding
	Expose      []string
	Mounts      []Mount
	Networks    []NetworkAttach
	NetworkMode string
	Restart     string
	StopSignal  string
	StopTimeout *int
	Tty         bool
	OpenStdin   bool
	// StdinOnce closes the container's stdin when the attached client
	// closes its input (run -i).
	StdinOnce  bool
	Privileged bool
	Init       *bool
	ReadOnly   bool
	ExtraHosts []string
	CapAdd     []string
	CapDrop    []string
	DNS        []string
	ShmSize    int64
	Tmpfs      map[string]string
	Sysctls    map[string]string
	Platform   string
	// AutoRemove has the engine remove the container when it exits (run
	// --rm).
	AutoRemove bool
}

// NetworkAttach connects a container to a network.
type NetworkAttach struct {
	Name        string
	Aliases     []string
	IPv4Address string
}

// BuildSpec is one image build.
type BuildSpec struct {
	Dockerfile string // its name in the context
	Tags       []string
	Args       map[string]*string
	Target     string
	Labels     map[string]string
	Network    string
	ExtraHosts []string
	ShmSize    int64
	NoCache    bool
	Pull       bool
}

// BuildError is a build the engine reported failed.
type BuildError struct {
	Service string
	Step    string // "Step 3/5 : RUN make", when known
	Output  string // the step's last lines
	Msg     string
}

func (e *BuildError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s: build failed", e.Service)
	if e.Step != "" {
		fmt.Fprintf(&b, " at %s", e.Step)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	if e.Output != "" {
		fmt.Fprintf(&b, "\nlast output of the step:\n%s", strings.TrimRight(e.Output, "\n"))
	}
	return b.String()
}

// ExecSpec is a command exec runs in a container.
type ExecSpec struct {
	Cmd        []string
	Env        []string
	User       string
	WorkingDir string
	Privileged bool
}

// Streams are what an attached command reads and writes. With Tty the
// output is one stream (to Stdout) and Resize carries the terminal's sizes.
type Streams struct {
	Stdin          io.Reader // nil: no input
	Stdout, Stderr io.Writer
	Tty            bool
	Size           TermSize
	Resize         <-chan TermSize
}

// TermSize is a terminal's size in characters.
type TermSize struct{ Width, Height uint }

// ExecResult is a finished exec.
type ExecResult struct {
	ExitCode int
	Output   string
}

// LogOptions select log output.
type LogOptions struct {
	Follow     bool
	Tail       string // "all" or a number
	Timestamps bool
	// Since and Until bound the lines by time, as the engine takes them:
	// an RFC 3339 time, a Unix timestamp, or a duration before now ("10m").
	Since, Until string
}

// NormalizeRef makes "postgres", "postgres:latest" and
// "docker.io/library/postgres:latest" the same key; a digest reference
// ("postgres:15@sha256:…") is keyed by repository and digest, as the
// engine lists it.
func NormalizeRef(ref string) string {
	ref = strings.TrimPrefix(ref, "docker.io/")
	ref = strings.TrimPrefix(ref, "library/")
	if name, digest, ok := strings.Cut(ref, "@"); ok {
		if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
			name = name[:i]
		}
		return name + "@" + digest
	}
	if i := strings.LastIndex(ref, ":"); i < 0 || i < strings.LastIndex(ref, "/") {
		ref += ":latest"
	}
	return ref
}
