package orchestrator

import (
	"context"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/hostports"
	"github.com/devenv-dev/devenv/registry"
)

// Orchestrator runs devenv's commands against one engine and registry.
type Orchestrator struct {
	Engine   Engine
	Registry *registry.Store
	// EngineKey keys registry reservations: "" for a local engine.
	EngineKey string
	// Probe lists host sockets; nil for a remote engine, whose ports are
	// not on this machine.
	Probe    func(ctx context.Context, ports map[int]bool) ([]hostports.Socket, error)
	Reporter Reporter
	// DialHost is where published ports are reached for health checks.
	DialHost string
	// Version is devenv's version, written into a label.
	Version string
	// DirExists is replaceable in tests.
	DirExists func(string) bool
	// Hosts runs host services; nil where they cannot run.
	Hosts HostRunner
}

func (o *Orchestrator) emit(e Event) {
	if o.Reporter == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	o.Reporter.Event(e)
}

func (o *Orchestrator) warn(service, detail string) {
	o.emit(Event{Service: service, Status: "Warning", Detail: detail, Level: Warn})
}
