package compose

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/internal/graph"
)

func checkPublish(v string) error {
	switch v {
	case "", "localhost", "all":
		return nil
	}
	return fmt.Errorf("%q is not one of localhost, all", v)
}

func (p *Project) validateExtension() error {
	file := p.MainFile()
	key := func(parts ...string) string { return strings.Join(append([]string{ExtensionKey}, parts...), ".") }
	if err := checkPublish(p.X.Publish); err != nil {
		return &ConfigError{File: file, Key: key("publish"), Msg: err.Error()}
	}
	for _, name := range sortedKeys(p.X.Host) {
		h := p.X.Host[name]
		if !hostName.MatchString(name) {
			return &ConfigError{File: file, Key: key("host", name), Msg: "a host service name is letters, digits, '.', '_' and '-', starting with a letter or digit"}
		}
		if _, clash := p.Model.Services[name]; clash {
			return &ConfigError{File: file, Key: key("host", name), Msg: "a host service cannot have the name of a compose service"}
		}
		if h.Port < 1 || h.Port > 65535 {
			return &ConfigError{File: file, Key: key("host", name, "port"), Msg: fmt.Sprintf("port %d is out of range 1-65535", h.Port)}
		}
		if h.Role != "" && !roleName.MatchString(h.Role) {
			return &ConfigError{File: file, Key: key("host", name, "role"), Msg: fmt.Sprintf("%q is not a role name", h.Role)}
		}
		if err := p.checkTemplate(h.Health); err != nil {
			return &ConfigError{File: file, Key: key("host", name, "health"), Msg: err.Error()}
		}
		if k, err := p.checkHostRun(name, h); err != nil {
			return &ConfigError{File: file, Key: key(append([]string{"host", name}, k...)...), Msg: err.Error()}
		}
	}
	if c := p.hostCycle(); c != "" {
		return &ConfigError{File: file, Key: key("host"), Msg: "depends_on has a cycle: " + c}
	}
	for name, sx := range p.ServiceX {
		if err := p.checkTemplate(sx.Health); err != nil {
			return &ConfigError{File: file, Key: "services." + name + "." + ExtensionKey + ".health", Msg: err.Error()}
		}
	}
	for _, path := range sortedKeys(p.X.EnvFiles) {
		if err := p.checkEnvPath(path); err != nil {
			return &ConfigError{File: file, Key: key("env_files", path), Msg: err.Error()}
		}
		vars := p.X.EnvFiles[path]
		for _, k := range sortedKeys(vars) {
			if !envName.MatchString(k) {
				return &ConfigError{File: file, Key: key("env_files", path, k), Msg: "not a valid variable name"}
			}
			if strings.ContainsAny(vars[k], "\n\r") {
				return &ConfigError{File: file, Key: key("env_files", path, k), Msg: "value must be a single line"}
			}
			if err := p.checkTemplate(vars[k]); err != nil {
				return &ConfigError{File: file, Key: key("env_files", path, k), Msg: err.Error()}
			}
		}
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkHostRun validates what devenv needs to run a host service; it
// returns the offending key below x-devenv.host.NAME.
func (p *Project) checkHostRun(name string, h HostService) ([]string, error) {
	for i, a := range h.Command.Args {
		if err := p.checkTemplate(a); err != nil {
			return []string{"command", fmt.Sprint(i)}, err
		}
	}
	if !h.Managed() && (h.Dir != "" || len(h.Env) > 0 || h.Restart != "" || h.StopSignal != "" || h.StopGracePeriod != "" || len(h.DependsOn) > 0) {
		return []string{"command"}, fmt.Errorf("dir, env, depends_on, restart and stop settings need a command for devenv to run")
	}
	if h.Dir != "" {
		if err := p.checkEnvPath(h.Dir); err != nil {
			return []string{"dir"}, fmt.Errorf("%s", strings.Replace(err.Error(), "env file path", "dir", 1))
		}
	}
	for _, k := range sortedKeys(h.Env) {
		if !envName.MatchString(k) {
			return []string{"env", k}, fmt.Errorf("not a valid variable name")
		}
		if err := p.checkTemplate(h.Env[k]); err != nil {
			return []string{"env", k}, err
		}
	}
	for _, dep := range sortedKeys(h.DependsOn) {
		_, host := p.X.Host[dep]
		_, svc := p.Model.Services[dep]
		_, off := p.Model.DisabledServices[dep]
		if !host && !svc && !off || dep == name {
			return []string{"depends_on", dep}, fmt.Errorf("no service or host service named %q", dep)
		}
		if c := h.DependsOn[dep]; c != "service_started" && c != "service_healthy" {
			return []string{"depends_on", dep, "condition"}, fmt.Errorf("%q is not service_started or service_healthy", c)
		}
	}
	switch h.Restart {
	case "", "no", "on-failure", "always":
	default:
		return []string{"restart"}, fmt.Errorf("%q is not no, on-failure or always", h.Restart)
	}
	if h.StopSignal != "" && !signalName.MatchString(h.StopSignal) {
		return []string{"stop_signal"}, fmt.Errorf("%q is not a signal name such as SIGTERM or SIGINT", h.StopSignal)
	}
	if h.StopGracePeriod != "" {
		if d, err := time.ParseDuration(h.StopGracePeriod); err != nil || d < 0 {
			return []string{"stop_grace_period"}, fmt.Errorf("%q is not a duration such as 10s", h.StopGracePeriod)
		}
	}
	for i, pr := range h.Profiles {
		if pr == "" {
			return []string{"profiles", fmt.Sprint(i)}, fmt.Errorf("empty profile name")
		}
	}
	return nil, nil
}

var hostName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// hostCycle finds a dependency cycle among host services, as "a → b → a".
func (p *Project) hostCycle() string {
	g := graph.New(slices.Collect(maps.Keys(p.X.Host)), func(n string) []string {
		return slices.Collect(maps.Keys(p.X.Host[n].DependsOn))
	})
	if c := g.Cycle(); c != nil {
		return c.String()
	}
	return ""
}

var signalName = regexp.MustCompile(`^SIG(TERM|INT|QUIT|HUP|KILL|USR1|USR2|WINCH)$`)

func (p *Project) checkEnvPath(path string) error {
	if path == "" || filepath.IsAbs(path) {
		return fmt.Errorf("env file path must be relative to the project directory")
	}
	clean := filepath.Clean(path)
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return fmt.Errorf("env file path leaves the project directory")
	}
	return nil
}

// checkTemplate verifies every {service} / {service:TARGET} placeholder names
// a service that publishes a port.
func (p *Project) checkTemplate(text string) error {
	var names []Name
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		name := m[1]
		if _, ok := p.X.Host[name]; ok {
			continue
		}
		_, known := p.Model.Services[name]
		if service, _, isName := cutLast(name); isName && !known && m[2] == "" {
			if names == nil {
				var err error
				if names, err = p.Names(); err != nil {
					return err
				}
			}
			if NameOf(names, service) == "" {
				return fmt.Errorf("placeholder {%s}: %s has no name (only HTTP services get https://SERVICE.PROJECT.localhost: a host service with a port, a container with an HTTP role, an http:// health or x-devenv.http: true; databases keep plain ports; x-devenv.proxy: false turns names off)", name, service)
			}
			continue
		}
		svc, ok := p.Model.Services[name]
		if !ok {
			return fmt.Errorf("placeholder {%s}: no service or host service named %q", m[0][1:len(m[0])-1], name)
		}
		if len(svc.Ports) == 0 {
			return fmt.Errorf("placeholder {%s}: service %q publishes no port", name, name)
		}
	}
	return nil
}
