package orchestrator

import "github.com/devenv-dev/devenv/orchestrator/engine"

// The engine port's names, as the rest of devenv knows them (see package
// engine).
type (
	Engine           = engine.Engine
	EngineInfo       = engine.EngineInfo
	ListFilter       = engine.ListFilter
	PortBinding      = engine.PortBinding
	Mount            = engine.Mount
	Container        = engine.Container
	ContainerDetails = engine.ContainerDetails
	Healthcheck      = engine.Healthcheck
	Network          = engine.Network
	Volume           = engine.Volume
	Image            = engine.Image
	PathInfo         = engine.PathInfo
	Stats            = engine.Stats
	EngineEvent      = engine.EngineEvent
	NetworkSpec      = engine.NetworkSpec
	VolumeSpec       = engine.VolumeSpec
	ContainerSpec    = engine.ContainerSpec
	NetworkAttach    = engine.NetworkAttach
	BuildSpec        = engine.BuildSpec
	BuildError       = engine.BuildError
	ExecSpec         = engine.ExecSpec
	Streams          = engine.Streams
	TermSize         = engine.TermSize
	ExecResult       = engine.ExecResult
	LogOptions       = engine.LogOptions
)

var (
	ErrNotFound          = engine.ErrNotFound
	ErrEngineUnreachable = engine.ErrEngineUnreachable
	ErrPortInUse         = engine.ErrPortInUse
)

// NormalizeRef is engine.NormalizeRef.
func NormalizeRef(ref string) string { return engine.NormalizeRef(ref) }
