package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"
)

// OneOff is what a command line changes of a service to run a one-off
// container of it (devenv run).
type OneOff struct {
	// Cmd and Entrypoint replace the service's when not nil.
	Cmd, Entrypoint []string
	Env             []string // K=V, or K to take it from the environment
	Labels          []string // K=V
	Volumes         []string // compose's short syntax
	User, WorkDir   string
	CapAdd, CapDrop []string
}

// OneOffConfig is the service as compose runs a one-off of it: no restart
// policy, no ports of its own, the command line's overrides.
// -e K without a value takes K from env, the project's environment.
func OneOffConfig(svc types.ServiceConfig, opts OneOff, env map[string]string) (types.ServiceConfig, error) {
	// The model's own maps and slices stay as they are.
	svc.Environment, svc.Labels = maps.Clone(svc.Environment), maps.Clone(svc.Labels)
	svc.Volumes, svc.CapAdd, svc.CapDrop = slices.Clone(svc.Volumes), slices.Clone(svc.CapAdd), slices.Clone(svc.CapDrop)
	svc.Restart, svc.Ports, svc.ContainerName = "", nil, ""
	if svc.Deploy != nil {
		deploy := *svc.Deploy
		deploy.RestartPolicy = nil
		svc.Deploy = &deploy
	}
	if opts.Cmd != nil {
		svc.Command = opts.Cmd
	}
	if opts.Entrypoint != nil {
		svc.Entrypoint = opts.Entrypoint
		if opts.Cmd == nil {
			svc.Command = types.ShellCommand{} // as compose: the image's entrypoint's arguments go with it
		}
	}
	if opts.User != "" {
		svc.User = opts.User
	}
	if opts.WorkDir != "" {
		svc.WorkingDir = opts.WorkDir
	}
	svc.CapAdd = append(svc.CapAdd, opts.CapAdd...)
	svc.CapDrop = append(svc.CapDrop, opts.CapDrop...)
	if svc.Environment == nil {
		svc.Environment = types.MappingWithEquals{}
	}
	for _, kv := range opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			v, ok = env[k]
		}
		if !ok {
			continue // unknown here: the service's own value stays
		}
		svc.Environment[k] = &v
	}
	if svc.Labels == nil {
		svc.Labels = types.Labels{}
	}
	for _, kv := range opts.Labels {
		k, v, _ := strings.Cut(kv, "=")
		svc.Labels[k] = v
	}
	for _, v := range opts.Volumes {
		vc, err := format.ParseVolume(v)
		if err != nil {
			return svc, fmt.Errorf("--volume %q: %v", v, err)
		}
		svc.Volumes = append(svc.Volumes, vc)
	}
	return svc, nil
}
