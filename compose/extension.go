package compose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
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
	// WriteEnvFiles false keeps up from writing env_files (people who keep
	// them by hand); `devenv env` still writes them.
	WriteEnvFiles *bool `json:"write_env_files,omitempty"`
	// Proxy false gives the project's services no names
	// (https://SERVICE.PROJECT.localhost); Main is the service
	// https://PROJECT.localhost serves.
	Proxy *bool  `json:"proxy,omitempty"`
	Main  string `json:"main,omitempty"`
	// Instances says how an instance (a worktree) starts: Seed fills its
	// empty volumes from that instance's ("main": the main checkout's).
	Instances InstancesX `json:"instances,omitempty"`
}

// InstancesX is x-devenv.instances.
type InstancesX struct {
	Seed string `json:"seed,omitempty"`
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
	// Hostname replaces the service's name (SERVICE.PROJECT.localhost).
	Hostname string `json:"hostname,omitempty"`
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
	// HTTP says whether the service speaks HTTP and gets a name; unset,
	// its role or an http:// health decide.
	HTTP *bool `json:"http,omitempty"`
	// Hostname replaces the service's name (SERVICE.PROJECT.localhost).
	Hostname string `json:"hostname,omitempty"`
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
		return cleanJSONErr(b, err)
	}
	return nil
}

// cleanJSONErr says a decoding error with the key as the file spells it
// (the JSON the value became tells the path: Go's names it by its struct
// fields, without map keys).
func cleanJSONErr(b []byte, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Type != nil {
		want := "a " + te.Type.Kind().String()
		switch te.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint16, reflect.Int32, reflect.Float64:
			want = "a number"
		case reflect.Bool:
			want = "true or false"
		case reflect.Slice:
			want = "a list"
		case reflect.Map, reflect.Struct:
			want = "a mapping"
		}
		field := jsonPathAt(b, te.Offset)
		if field == "" {
			field = "the block"
		}
		found := map[string]string{"object": "a mapping", "array": "a list", "bool": "true or false"}[te.Value]
		if found == "" {
			found = "a " + te.Value
		}
		if strings.HasPrefix(te.Value, "number") && want == "a number" {
			return fmt.Errorf("%s must be a whole number, not %s", field, strings.TrimPrefix(te.Value, "number "))
		}
		return fmt.Errorf("%s must be %s, not %s", field, want, found)
	}
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

// jsonPathAt is the path (host.web.port, env_files.a.env.A, list[2]) of
// the value that ends at offset in the JSON document b.
func jsonPathAt(b []byte, offset int64) string {
	type frame struct {
		object  bool
		key     string
		index   int
		wantKey bool
	}
	var stack []frame
	path := func() string {
		var out []string
		for _, f := range stack {
			if f.object {
				out = append(out, f.key)
			} else {
				out = append(out, fmt.Sprintf("[%d]", f.index))
			}
		}
		return strings.ReplaceAll(strings.Join(out, "."), ".[", "[")
	}
	// value marks the start of a value in the innermost frame.
	value := func() {
		if n := len(stack); n > 0 && !stack[n-1].object {
			stack[n-1].index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		n := len(stack)
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if n == 0 || !stack[n-1].object || !stack[n-1].wantKey {
					value()
				}
				if dec.InputOffset() >= offset && n > 0 {
					return path()
				}
				stack = append(stack, frame{object: t == '{', wantKey: t == '{', index: -1})
			default:
				if dec.InputOffset() >= offset {
					return path()
				}
				stack = stack[:n-1]
				if n > 1 && stack[n-2].object {
					stack[n-2].wantKey = true
				}
			}
		default:
			if n > 0 && stack[n-1].object && stack[n-1].wantKey {
				stack[n-1].key, stack[n-1].wantKey = fmt.Sprint(t), false
				continue
			}
			value()
			if dec.InputOffset() >= offset {
				return path()
			}
			if n > 0 && stack[n-1].object {
				stack[n-1].wantKey = true
			}
		}
	}
}
