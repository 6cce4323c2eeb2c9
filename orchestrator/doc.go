// Package orchestrator is devenv's core: it observes a project's resources
// through the Engine interface, plans the steps that bring them to the
// compose model as a pure function, and applies the plan with as much
// parallelism as depends_on allows. It also reconciles ports with the registry.
package orchestrator
