package plan

import "github.com/devenv-dev/devenv/orchestrator/engine"

// The engine port's names, as the planner knows them (see package engine).
type (
	Engine        = engine.Engine
	ListFilter    = engine.ListFilter
	PortBinding   = engine.PortBinding
	Mount         = engine.Mount
	Container     = engine.Container
	Network       = engine.Network
	Volume        = engine.Volume
	NetworkSpec   = engine.NetworkSpec
	VolumeSpec    = engine.VolumeSpec
	ContainerSpec = engine.ContainerSpec
	Healthcheck   = engine.Healthcheck
	NetworkAttach = engine.NetworkAttach
)
