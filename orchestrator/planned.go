package orchestrator

import (
	"context"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// The planner's names (see package plan), as the rest of devenv knows them.
type (
	Binding        = plan.Binding
	Bindings       = plan.Bindings
	Desired        = plan.Desired
	DesiredService = plan.DesiredService
	ForeignError   = plan.ForeignError
	Observed       = plan.Observed
	Plan           = plan.Plan
	PlanOptions    = plan.PlanOptions
	Step           = plan.Step
)

// The planner's actions, calls and compose labels.
const (
	ActBuild          = plan.ActBuild
	ActCreate         = plan.ActCreate
	ActCreateNetwork  = plan.ActCreateNetwork
	ActCreateVolume   = plan.ActCreateVolume
	ActForgetHost     = plan.ActForgetHost
	ActKeep           = plan.ActKeep
	ActKeepHost       = plan.ActKeepHost
	ActKill           = plan.ActKill
	ActPull           = plan.ActPull
	ActRecreate       = plan.ActRecreate
	ActRemove         = plan.ActRemove
	ActRemoveImage    = plan.ActRemoveImage
	ActRemoveLeftover = plan.ActRemoveLeftover
	ActRemoveNetwork  = plan.ActRemoveNetwork
	ActRemoveOrphan   = plan.ActRemoveOrphan
	ActRemoveRelay    = plan.ActRemoveRelay
	ActRemoveVolume   = plan.ActRemoveVolume
	ActRestart        = plan.ActRestart
	ActRestartHost    = plan.ActRestartHost
	ActRestoreForward = plan.ActRestoreForward
	ActSignalHost     = plan.ActSignalHost
	ActStart          = plan.ActStart
	ActStartHost      = plan.ActStartHost
	ActStop           = plan.ActStop
	ActStopForward    = plan.ActStopForward
	ActStopHost       = plan.ActStopHost
	ActWarnOrphan     = plan.ActWarnOrphan
	CallCheckPorts    = plan.CallCheckPorts
	CallCreate        = plan.CallCreate
	CallRemove        = plan.CallRemove
	CallRename        = plan.CallRename
	CallStart         = plan.CallStart
	CallStop          = plan.CallStop
	LabelConfigFiles  = plan.LabelConfigFiles
	LabelDependsOn    = plan.LabelDependsOn
	LabelImage        = plan.LabelImage
	LabelNumber       = plan.LabelNumber
	LabelOneoff       = plan.LabelOneoff
	LabelPorts        = plan.LabelPorts
	LabelProject      = plan.LabelProject
	LabelService      = plan.LabelService
	LabelVolume       = plan.LabelVolume
	LabelWorkingDir   = plan.LabelWorkingDir
)

// BuildDesired is plan.BuildDesired.
func BuildDesired(p *compose.Project, b Bindings, version string) (*Desired, error) {
	return plan.BuildDesired(p, b, version)
}

// PlanUp is plan.PlanUp.
func PlanUp(d *Desired, o *Observed, opts PlanOptions) (*Plan, error) { return plan.PlanUp(d, o, opts) }

// Observe is plan.Observe.
func Observe(ctx context.Context, e Engine, project string, images bool) (*Observed, error) {
	return plan.Observe(ctx, e, project, images)
}

// Closure is plan.Closure.
func Closure(d *Desired, services []string, noDeps bool) []string {
	return plan.Closure(d, services, noDeps)
}
