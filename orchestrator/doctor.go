package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/registry"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devenv-dev/devenv/compose"
)

// Finding is one result of `doctor`.
type Finding struct {
	Level   string `json:"level"` // ok, warning, error
	Check   string `json:"check"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// defaultPasswords are the passwords example files ship with.
var defaultPasswords = []string{"postgres", "password", "secret", "root", "admin", "example", "changeme", "mysql", "redis"}

// Doctor checks the engine, the registry, port conflicts, exposure and
// data-loss risks. p may be nil outside a project.
func (o *Orchestrator) Doctor(ctx context.Context, p *compose.Project, info EngineInfo, engineErr error) []Finding {
	var out []Finding
	add := func(level, check, msg, fix string) { out = append(out, Finding{level, check, msg, fix}) }
	if engineErr != nil {
		fix := "start Docker, or point DOCKER_HOST / docker context at a running engine"
		if strings.Contains(engineErr.Error(), "chosen by DOCKER_HOST") {
			fix = "DOCKER_HOST names an engine that does not answer: correct it, unset it, or start that engine"
		}
		add("error", "engine", engineErr.Error(), fix)
	} else {
		add("ok", "engine", fmt.Sprintf("engine %s (API %s) at %s, chosen by %s", info.ServerVersion, info.APIVersion, info.Endpoint, info.How), "")
		if strings.HasPrefix(info.Endpoint, "tcp://") && info.Remote {
			add("warning", "engine", "engine is reached over plain TCP", "use TLS (DOCKER_TLS_VERIFY) or ssh://")
		}
	}
	reg, regErr := o.Registry.Load()
	if regErr != nil {
		add("error", "registry", regErr.Error(), "fix the file by hand or move it aside; devenv never overwrites it")
	} else {
		add("ok", "registry", fmt.Sprintf("%s (%s): %s", o.Registry.Path, o.Registry.How, plural(len(reg.Projects), "project")), "")
	}
	const needsEngine = "needs the engine, which is not reachable"
	if regErr != nil {
		add("skipped", "ports", "port conflicts not checked: the registry does not load", "")
	} else {
		// Without the engine, what the registry and this machine's
		// sockets say.
		conflicts, err := o.CheckPorts(ctx)
		var notAsked *EngineNotAskedError
		switch {
		case errors.As(err, &notAsked):
			add("skipped", "ports", "containers holding ports not checked: "+needsEngine, "")
		case err != nil:
			add("error", "ports", err.Error(), "")
		}
		for _, c := range conflicts {
			add("error", "ports", "port conflict "+c.String(), "run `devenv ports why "+fmt.Sprint(c.Port)+"`, then stop the holder or `devenv ports assign --reassign` in the project")
		}
		if (err == nil || notAsked != nil) && len(conflicts) == 0 {
			add("ok", "ports", "no port conflicts in what could be checked", "")
		}
	}
	if engineErr == nil {
		out = append(out, o.exposed(ctx, p)...)
		out = append(out, o.reach().findings(ctx, p)...)
	} else {
		add("skipped", "exposure", "databases published on all interfaces not checked: "+needsEngine, "")
	}
	if p == nil {
		add("skipped", "project", "project checks (volumes, env files) skipped: no compose file loaded", "")
		return out
	}
	if engineErr == nil {
		out = append(out, o.uncoveredVolumes(ctx, p)...)
	} else {
		add("skipped", "volumes", "image VOLUME paths not checked: "+needsEngine, "")
	}
	if files, err := o.EnvFiles(ctx, p); err != nil {
		add("error", "env", "env files not checked: "+err.Error(), envFix(err))
	} else {
		for _, f := range files {
			for _, d := range f.Drift {
				add("warning", "env", "env file out of date: "+d, "run `devenv env`")
			}
		}
	}
	return out
}

// envFix points at what keeps the env files from being computed: a port
// conflict, the registry, or the x-devenv block itself.
func envFix(err error) string {
	var ce *registry.ConflictError
	var de *registry.DirError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("run `devenv ports why %d`, then stop the holder or `devenv ports assign --reassign %s`", ce.Port, ce.Service)
	case errors.As(err, &de):
		return "see the message: the project's name is registered for another directory"
	case errors.Is(err, ErrEngineUnreachable):
		return "start Docker, or point DOCKER_HOST / docker context at a running engine"
	case errors.As(err, new(*registry.ParseError)), errors.As(err, new(*registry.UnsafeError)):
		return "fix or move the registry file the message names; devenv never overwrites it"
	case errors.As(err, new(*compose.ConfigError)):
		return "fix the file and key the message names"
	}
	return ""
}

// exposed finds database containers published on all interfaces, on the
// whole engine, and in the project's model those with default passwords.
func (o *Orchestrator) exposed(ctx context.Context, p *compose.Project) []Finding {
	var out []Finding
	cs, err := o.Engine.Containers(ctx, ListFilter{})
	if err != nil {
		return nil
	}
	for _, c := range cs {
		role := compose.Role("", c.Image, c.Labels[LabelService])
		if !IsDatabaseRole(role) {
			continue
		}
		for _, pb := range c.Ports {
			if pb.HostPort != "" && (pb.HostIP == "0.0.0.0" || pb.HostIP == "::" || pb.HostIP == "") {
				level := "warning"
				msg := fmt.Sprintf("%s container %s publishes %s on all interfaces", role, c.Name, pb.HostPort)
				if p != nil && c.Labels[LabelProject] == p.Name() && hasDefaultPassword(p, c.Labels[LabelService]) {
					level = "error"
					msg += " with a default password"
				}
				out = append(out, Finding{level, "exposure", msg, "bind it to 127.0.0.1 (drop x-devenv publish: all / --publish-all) and run devenv up"})
				break
			}
		}
	}
	return out
}

func hasDefaultPassword(p *compose.Project, service string) bool {
	svc, ok := p.Model.Services[service]
	if !ok {
		return false
	}
	for k, v := range svc.Environment {
		if v != nil && strings.Contains(strings.ToUpper(k), "PASSWORD") && slices.Contains(defaultPasswords, strings.ToLower(*v)) {
			return true
		}
	}
	return false
}

// uncoveredVolumes finds image VOLUME paths that no named volume or bind
// mount covers: their data lives in an anonymous volume and is easily lost.
func (o *Orchestrator) uncoveredVolumes(ctx context.Context, p *compose.Project) []Finding {
	var out []Finding
	for _, name := range p.Model.ServiceNames() {
		svc := p.Model.Services[name]
		im, err := o.Engine.ImageInspect(ctx, svc.Image)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				out = append(out, Finding{"warning", "volumes", fmt.Sprintf("service %s: cannot inspect image %s: %v", name, svc.Image, err), ""})
			}
			continue
		}
		for _, vp := range im.Volumes {
			if covered(vp, svc.Volumes) {
				continue
			}
			out = append(out, Finding{"warning", "volumes",
				fmt.Sprintf("service %s: image %s keeps data in VOLUME %s, which no named volume or bind mount covers; it lives in an anonymous volume", name, svc.Image, vp),
				fmt.Sprintf("add a named volume: volumes: [\"%s-data:%s\"]", name, vp)})
		}
	}
	return out
}

func covered(vp string, mounts []typesVolume) bool {
	for _, m := range mounts {
		if m.Type != "volume" && m.Type != "bind" {
			continue
		}
		if m.Type == "volume" && m.Source == "" {
			continue
		}
		t := path.Clean(m.Target)
		if t == path.Clean(vp) || strings.HasPrefix(path.Clean(vp)+"/", t+"/") {
			return true
		}
	}
	return false
}

type typesVolume = types.ServiceVolumeConfig

// plural is "1 project", "2 projects".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
