package compose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ExtensionKey is the top-level and per-service key devenv reads.
const ExtensionKey = "x-devenv"

// Extension is the project-level x-devenv block.
type Extension struct {
	Stack string `json:"stack,omitempty"`
	// Publish is "localhost" (default) or "all": where ports without a host
	// IP are bound.
	Publish  string                       `json:"publish,omitempty"`
	Host     map[string]HostService       `json:"host,omitempty"`
	EnvFiles map[string]map[string]string `json:"env_files,omitempty"`
	// WriteEnvFiles false keeps up from writing env_files (people who keep
	// them by hand); `devenv env` still writes them.
	WriteEnvFiles *bool `json:"write_env_files,omitempty"`
}

// UpWritesEnvFiles says whether up writes the declared env files before
// host services start (x-devenv.write_env_files, default true).
func (x Extension) UpWritesEnvFiles() bool { return x.WriteEnvFiles == nil || *x.WriteEnvFiles }

// HostService is a process on the host, outside Docker: run by devenv when
// it has a command, else only watched (health, ports).
type HostService struct {
	Role   string `json:"role,omitempty"`
	Port   int    `json:"port"`
	Health string `json:"health,omitempty"`
	// Command is a string (run through sh -c) or a list (exec'd as is);
	// {service} placeholders are expanded.
	Command CommandLine `json:"command,omitempty"`
	// Dir is the working directory, relative to the project directory.
	Dir string `json:"dir,omitempty"`
	// Env adds to devenv's environment; PORT defaults to the service's own
	// assigned port. Values may hold {service} placeholders.
	Env       map[string]string `json:"env,omitempty"`
	DependsOn HostDependsOn     `json:"depends_on,omitempty"`
	// Restart is no (default), on-failure or always.
	Restart         string   `json:"restart,omitempty"`
	StopSignal      string   `json:"stop_signal,omitempty"`
	StopGracePeriod string   `json:"stop_grace_period,omitempty"`
	Profiles        []string `json:"profiles,omitempty"`
}

// Managed says whether devenv runs the host service (it has a command).
func (h HostService) Managed() bool { return len(h.Command.Args) > 0 }

// CommandLine is a command given as a string (Shell) or a list.
type CommandLine struct {
	Args  []string
	Shell bool
}

// UnmarshalJSON takes a string or a list of strings.
func (c *CommandLine) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if strings.TrimSpace(s) != "" {
			c.Args, c.Shell = []string{s}, true
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("command must be a string or a list of strings")
	}
	c.Args = list
	return nil
}

// MarshalJSON writes the form it was given.
func (c CommandLine) MarshalJSON() ([]byte, error) {
	if c.Shell {
		return json.Marshal(c.Args[0])
	}
	return json.Marshal(c.Args)
}

// HostDependsOn is depends_on of a host service: a list of names, or a map
// of name to {condition}.
type HostDependsOn map[string]string

// UnmarshalJSON takes a list (service_started) or a map with conditions.
func (d *HostDependsOn) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*d = HostDependsOn{}
		for _, n := range list {
			(*d)[n] = "service_started"
		}
		return nil
	}
	var m map[string]struct {
		Condition string `json:"condition"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("depends_on must be a list of names or a map of name to {condition: ...}")
	}
	*d = HostDependsOn{}
	for n, c := range m {
		if c.Condition == "" {
			c.Condition = "service_started"
		}
		(*d)[n] = c.Condition
	}
	return nil
}

// ServiceExtension is a service's own x-devenv block.
type ServiceExtension struct {
	Role    string `json:"role,omitempty"`
	Health  string `json:"health,omitempty"`
	Publish string `json:"publish,omitempty"`
}

var (
	roleName    = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	placeholder = regexp.MustCompile(`\{([A-Za-z0-9_.-]*)(?::([^}]*))?\}`)
)

// decodeStrict decodes an extension value into out, rejecting unknown keys.
func decodeStrict(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return cleanJSONErr(err)
	}
	return nil
}

func cleanJSONErr(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	msg = strings.Replace(msg, "unknown field", "unknown key", 1)
	msg = strings.Replace(msg, "cannot unmarshal", "wrong type:", 1)
	msg = strings.Replace(msg, "Go struct field ", "", 1)
	return fmt.Errorf("%s", msg)
}

// DecodeExtension parses a raw x-devenv value; exported for fuzzing.
func DecodeExtension(v any) (Extension, error) {
	var x Extension
	err := decodeStrict(v, &x)
	return x, err
}

func (p *Project) decodeExtensions() error {
	file := p.MainFile()
	p.ServiceX = map[string]ServiceExtension{}
	if raw, ok := p.Model.Extensions[ExtensionKey]; ok && raw != nil {
		x, err := DecodeExtension(raw)
		if err != nil {
			return &ConfigError{File: file, Key: ExtensionKey, Msg: err.Error()}
		}
		p.X = x
	}
	for name, svc := range p.Model.Services {
		raw, ok := svc.Extensions[ExtensionKey]
		if !ok || raw == nil {
			continue
		}
		var sx ServiceExtension
		if err := decodeStrict(raw, &sx); err != nil {
			return &ConfigError{File: file, Key: "services." + name + "." + ExtensionKey, Msg: err.Error()}
		}
		if sx.Role != "" && !roleName.MatchString(sx.Role) {
			return &ConfigError{File: file, Key: "services." + name + "." + ExtensionKey + ".role", Msg: fmt.Sprintf("%q is not a role name (lowercase letters, digits, - and _)", sx.Role)}
		}
		if err := checkPublish(sx.Publish); err != nil {
			return &ConfigError{File: file, Key: "services." + name + "." + ExtensionKey + ".publish", Msg: err.Error()}
		}
		p.ServiceX[name] = sx
	}
	return p.validateExtension()
}

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
	state := map[string]int{}
	var path []string
	var visit func(string) string
	visit = func(n string) string {
		state[n] = 1
		path = append(path, n)
		for _, dep := range sortedKeys(p.X.Host[n].DependsOn) {
			if _, host := p.X.Host[dep]; !host {
				continue
			}
			if state[dep] == 1 {
				return strings.Join(append(path, dep), " → ")
			}
			if state[dep] == 0 {
				if c := visit(dep); c != "" {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
		return ""
	}
	for _, n := range sortedKeys(p.X.Host) {
		if state[n] == 0 {
			if c := visit(n); c != "" {
				return c
			}
		}
	}
	return ""
}

var signalName = regexp.MustCompile(`^SIG(TERM|INT|QUIT|HUP|KILL|USR1|USR2|WINCH)$`)

// HostActive says whether a host service runs with the project's active
// profiles (no profiles: always).
func (p *Project) HostActive(name string) bool {
	h := p.X.Host[name]
	if len(h.Profiles) == 0 {
		return true
	}
	for _, pr := range h.Profiles {
		if slices.Contains(p.Model.Profiles, pr) || slices.Contains(p.Model.Profiles, "*") {
			return true
		}
	}
	return false
}

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
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		name := m[1]
		if _, ok := p.X.Host[name]; ok {
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

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func readRaw(file string) (map[string]any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}
