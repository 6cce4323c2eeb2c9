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
}

// HostService is a process the developer runs on the host, outside Docker.
type HostService struct {
	Role   string `json:"role,omitempty"`
	Port   int    `json:"port"`
	Health string `json:"health,omitempty"`
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
