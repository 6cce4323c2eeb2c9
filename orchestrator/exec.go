package orchestrator

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// NotRunningError is a service with no running container to exec in.
type NotRunningError struct{ Service string }

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("service %q is not running; start it with devenv up %s", e.Service, e.Service)
}

// hostServiceError refuses a container verb for a host service.
func hostServiceError(p *compose.Project, verb, name string) error {
	return &compose.ConfigError{File: p.MainFile(), Key: compose.ExtensionKey + ".host." + name,
		Msg: fmt.Sprintf("%s is a host service (a process on this machine), not a container: devenv %s works on containers", name, verb)}
}

// ExecOptions are the flags of `exec`.
type ExecOptions struct {
	Service string
	Index   int // container number; 0 is 1
	Spec    ExecSpec
	Streams Streams
}

// Exec runs a command in a service's running container, attached, and
// returns the command's exit code.
func (o *Orchestrator) Exec(ctx context.Context, p *compose.Project, opts ExecOptions) (int, error) {
	c, err := o.runningContainer(ctx, p, "exec", opts.Service, opts.Index)
	if err != nil {
		return 0, err
	}
	spec := opts.Spec
	spec.Env = nil
	for _, kv := range opts.Spec.Env {
		// -e K takes K from the project's environment, as compose does.
		if k, _, ok := strings.Cut(kv, "="); !ok {
			if v, found := p.Model.Environment[k]; found {
				spec.Env = append(spec.Env, k+"="+v)
			}
			continue
		}
		spec.Env = append(spec.Env, kv)
	}
	return o.Engine.ExecAttached(ctx, c.ID, spec, opts.Streams)
}

// runningContainer is the service's container number index (1 when 0),
// which must be running.
func (o *Orchestrator) runningContainer(ctx context.Context, p *compose.Project, verb, service string, index int) (Container, error) {
	if _, ok := p.X.Host[service]; ok {
		return Container{}, hostServiceError(p, verb, service)
	}
	if index == 0 {
		index = 1
	}
	if err := p.Enable(ctx, []string{service}); err != nil {
		return Container{}, err
	}
	if _, err := p.SelectServices([]string{service}); err != nil {
		return Container{}, err
	}
	// One list call, filtered by the engine: exec's path is a hot one.
	cs, err := o.Engine.Containers(ctx, ListFilter{Labels: []string{LabelProject + "=" + p.Name(), LabelService + "=" + service}})
	if err != nil {
		return Container{}, err
	}
	if err := o.checkSameDir(p, cs); err != nil {
		return Container{}, err
	}
	for _, c := range cs {
		if c.Labels[LabelNumber] == strconv.Itoa(index) && c.Labels[LabelOneoff] != "True" && !plan.IsLeftover(c) && c.State == "running" {
			return c, nil
		}
	}
	return Container{}, &NotRunningError{Service: service}
}
