package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/devenv-dev/devenv/internal/suggest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// DefaultFileNames are searched first, in the working directory and then in
// its parents, before compose's own default names.
var DefaultFileNames = []string{"docker-compose.dev.yml", "docker-compose.dev.yaml"}

// Options are the inputs docker compose takes for loading a project.
type Options struct {
	Files            []string
	ProjectName      string
	Profiles         []string
	EnvFiles         []string
	ProjectDirectory string
	// WorkingDir is where the default file search starts; "" means the
	// process's working directory.
	WorkingDir string
	// Environ is the process environment as KEY=VALUE pairs.
	Environ []string
	// SkipSchema skips compose's JSON-schema validation (about 15 ms), for
	// read-only commands that only need names and ports.
	SkipSchema bool
	// NoInterpolate leaves ${VAR} as written; only RenderRaw uses it.
	NoInterpolate bool
	// AllowMissing lets a command that only needs the project name (down,
	// stop, ps, logs with -p) run where there is no compose file, as
	// docker compose -p NAME down does.
	AllowMissing bool
}

// Project is a loaded compose project plus devenv's typed extension values.
type Project struct {
	Model *types.Project
	// Files are the compose files in merge order, absolute.
	Files []string
	X     Extension
	// ServiceX holds each service's x-devenv block (zero value when absent).
	ServiceX map[string]ServiceExtension
	// loaded are the options Load used, to load again with more profiles.
	loaded *Options
}

// Name is the normalised compose project name.
func (p *Project) Name() string { return p.Model.Name }

// Dir is the project directory (compose's working_dir label).
func (p *Project) Dir() string { return p.Model.WorkingDir }

// MainFile names the first compose file, used in messages.
func (p *Project) MainFile() string {
	if len(p.Files) == 0 {
		return "compose file"
	}
	return p.Files[0]
}

// Load reads and validates the project the way docker compose would.
func Load(ctx context.Context, o Options) (*Project, error) {
	files, start, workDir, err := resolve(o)
	if err != nil {
		return nil, err
	}
	opts, err := projectOptions(files, workDir, start, o)
	if err != nil {
		return nil, wrapLoadErr(files, err)
	}
	if len(opts.ConfigPaths) == 0 && o.AllowMissing && o.ProjectName != "" {
		return &Project{Model: &types.Project{Name: o.ProjectName, WorkingDir: start, Services: types.Services{}},
			ServiceX: map[string]ServiceExtension{}}, nil
	}
	if len(opts.ConfigPaths) == 0 {
		return nil, &ConfigError{File: start, Msg: fmt.Sprintf("no %s or compose file found here or in any parent directory (use -f)", DefaultFileNames[0]), Err: ErrNoFile}
	}
	for _, f := range opts.ConfigPaths {
		if _, err := os.Stat(f); err != nil && f != "-" {
			return nil, &ConfigError{File: f, Msg: "cannot read compose file", Err: err}
		}
	}
	model, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, wrapLoadErr(opts.ConfigPaths, err)
	}
	p := &Project{Model: model, Files: append([]string(nil), opts.ConfigPaths...), loaded: &o}
	if err := checkUnsetPortVars(opts.ConfigPaths, model.Environment); err != nil {
		return nil, err
	}
	if err := p.decodeExtensions(); err != nil {
		return nil, err
	}
	if _, err := p.PortRequests(); err != nil {
		return nil, err
	}
	return p, nil
}

// Declares says whether the file declares service, active or behind an
// inactive profile.
func (p *Project) Declares(service string) bool {
	_, active := p.Model.Services[service]
	_, inactive := p.Model.DisabledServices[service]
	return active || inactive
}

// VolumeInUse says whether the named volume (its key in the file) is used by
// an active service, or by no service at all; a volume only inactive
// services use belongs to them and is left alone.
func (p *Project) VolumeInUse(key string) bool {
	uses := func(svc types.ServiceConfig) bool {
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source == key {
				return true
			}
		}
		return false
	}
	for _, svc := range p.Model.Services {
		if uses(svc) {
			return true
		}
	}
	for _, svc := range p.Model.DisabledServices {
		if uses(svc) {
			return false
		}
	}
	return true
}

// resolve finds the compose files, the directory they are searched from
// and the project directory, as docker compose does, with devenv's default
// file first.
func resolve(o Options) (files []string, start, workDir string, err error) {
	env := envMap(o.Environ)
	start = o.WorkingDir
	if start == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, "", "", fmt.Errorf("working directory: %w", err)
		}
		start = wd
	}
	files = append([]string(nil), o.Files...)
	if len(files) == 0 && env["COMPOSE_FILE"] == "" {
		searchFrom := start
		if o.ProjectDirectory != "" {
			searchFrom = absFrom(start, o.ProjectDirectory)
		}
		// In each directory going up: devenv's file, then compose's own
		// names; the first directory with any of them wins (a child's
		// compose.yaml before a parent's docker-compose.dev.yml). compose's
		// file brings its override file, as compose loads them.
		if f := findUp(searchFrom, append(slices.Clone(DefaultFileNames), cli.DefaultFileNames...)); f != "" {
			files = []string{f}
			if !slices.Contains(DefaultFileNames, filepath.Base(f)) {
				for _, n := range cli.DefaultOverrideFileNames {
					if st, err := os.Stat(filepath.Join(filepath.Dir(f), n)); err == nil && !st.IsDir() {
						files = append(files, filepath.Join(filepath.Dir(f), n))
						break
					}
				}
			}
		}
	}
	if len(files) == 0 && env["COMPOSE_FILE"] != "" {
		sep := env["COMPOSE_PATH_SEPARATOR"]
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		files = strings.Split(env["COMPOSE_FILE"], sep)
	}
	for i, f := range files {
		if f != "-" {
			files[i] = absFrom(start, f)
		}
	}
	if o.ProjectName != "" && o.ProjectName != loader.NormalizeProjectName(o.ProjectName) {
		return nil, "", "", &ConfigError{Key: "project name", Msg: fmt.Sprintf("%q is not a valid project name: use lowercase letters, digits, dashes and underscores, starting with a letter or digit", o.ProjectName)}
	}
	if o.ProjectDirectory != "" {
		workDir = absFrom(start, o.ProjectDirectory)
		if st, err := os.Stat(workDir); err != nil || !st.IsDir() {
			return nil, "", "", &ConfigError{File: workDir, Msg: "--project-directory: no such directory"}
		}
	}
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			name := DefaultFileNames[0]
			if found := findUp(f, append(slices.Clone(DefaultFileNames), cli.DefaultFileNames...)); filepath.Dir(found) == f {
				name = filepath.Base(found)
			}
			return nil, "", "", &ConfigError{File: f, Msg: fmt.Sprintf("is a directory, not a compose file; give the file (-f %s) or use --project-directory %s", filepath.Join(f, name), f)}
		}
	}
	for _, f := range absAll(start, o.EnvFiles) {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			return nil, "", "", &ConfigError{File: f, Msg: "--env-file: is a directory, not an env file"}
		} else if err != nil {
			return nil, "", "", &ConfigError{File: f, Msg: "--env-file: cannot read it", Err: err}
		}
	}
	return files, start, workDir, nil
}

// projectOptions are compose-go's options for o, as docker compose sets
// them.
func projectOptions(files []string, workDir, start string, o Options) (*cli.ProjectOptions, error) {
	return cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(workDir),
		cli.WithEnv(o.Environ),
		cli.WithConfigFileEnv,
		withDefaultPathFrom(start),
		cli.WithEnvFiles(absAll(start, o.EnvFiles)...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(o.Profiles...),
		cli.WithName(o.ProjectName),
		cli.WithResolvedPaths(true),
		cli.WithoutUnnecessaryResources,
		cli.WithLoadOptions(func(lo *loader.Options) { lo.SkipValidation = o.SkipSchema }),
		cli.WithInterpolation(!o.NoInterpolate),
	)
}

// RenderRaw prints the model as written, ${VAR} kept (config
// --no-interpolate), as docker compose does: from the merged model, not a
// loaded project.
func RenderRaw(ctx context.Context, o Options, format string) ([]byte, error) {
	files, start, workDir, err := resolve(o)
	if err != nil {
		return nil, err
	}
	o.NoInterpolate = true
	opts, err := projectOptions(files, workDir, start, o)
	if err != nil {
		return nil, wrapLoadErr(files, err)
	}
	model, err := opts.LoadModel(ctx)
	if err != nil {
		return nil, wrapLoadErr(opts.ConfigPaths, err)
	}
	if format == "json" {
		return json.MarshalIndent(model, "", "  ") // compose ends it without a newline
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(model); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Enable activates the profiles of the named services that are behind an
// inactive profile, as docker compose does for services named on its
// command line (up SERVICE, run SERVICE). The project is loaded again with
// those profiles, so the networks and volumes only they use are there too.
func (p *Project) Enable(ctx context.Context, names []string) error {
	profiles := []string{}
	for _, n := range names {
		if svc, ok := p.Model.DisabledServices[n]; ok {
			profiles = append(profiles, svc.Profiles...)
		}
	}
	if len(profiles) == 0 || p.loaded == nil {
		return nil
	}
	o := *p.loaded
	o.Profiles = append(append(append([]string(nil), p.Model.Profiles...), o.Profiles...), profiles...)
	q, err := Load(ctx, o)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// SelectServices checks that every named service exists (enabled or behind an
// inactive profile) and returns them; none named means all enabled services.
func (p *Project) SelectServices(names []string) ([]string, error) {
	if len(names) == 0 {
		return p.Model.ServiceNames(), nil
	}
	if len(p.Files) == 0 {
		return names, nil // no file: the engine's labels are all we know
	}
	for _, n := range names {
		if _, ok := p.Model.Services[n]; ok {
			continue
		}
		if _, ok := p.Model.DisabledServices[n]; ok {
			return nil, &ConfigError{File: p.MainFile(), Key: "services." + n, Msg: "service is in a profile that is not active (use --profile)"}
		}
		return nil, &UnknownServiceError{Service: n, File: p.MainFile(), Suggestion: suggest.Closest(n, p.AllServiceNames())}
	}
	return names, nil
}

// Only is the project narrowed to the named services and what they depend
// on, as compose's config SERVICE... prints it (host services named keep
// the x-devenv block as it is). An unknown name is an UnknownServiceError.
func (p *Project) Only(names []string) (*Project, error) {
	var services []string
	for _, n := range names {
		if _, host := p.X.Host[n]; !host {
			services = append(services, n)
		}
	}
	for _, n := range services {
		if !p.Declares(n) {
			return nil, &UnknownServiceError{Service: n, File: p.MainFile(), Suggestion: suggest.Closest(n, p.AllServiceNames())}
		}
	}
	if len(services) == 0 {
		// Host services only: no compose service of the model.
		q := *p
		m := *p.Model
		m.Services = types.Services{}
		m.DisabledServices = types.Services{}
		q.Model = m.WithoutUnnecessaryResources()
		return &q, nil
	}
	// Naming a service behind a profile enables it, as compose does.
	enabled, err := p.Model.WithServicesEnabled(services...)
	if err != nil {
		return nil, err
	}
	m, err := enabled.WithSelectedServices(services)
	if err != nil {
		return nil, &ConfigError{File: p.MainFile(), Msg: err.Error(), Err: err}
	}
	q := *p
	q.Model = m.WithoutUnnecessaryResources()
	return &q, nil
}

// AllServiceNames are the names the project declares: compose services,
// enabled or not, and host services.
func (p *Project) AllServiceNames() []string {
	names := p.Model.ServiceNames()
	for n := range p.Model.DisabledServices {
		names = append(names, n)
	}
	for n := range p.X.Host {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func withDefaultPathFrom(start string) cli.ProjectOptionsFn {
	return func(o *cli.ProjectOptions) error {
		if len(o.ConfigPaths) > 0 || o.WorkingDir != "" {
			return cli.WithDefaultConfigPath(o)
		}
		o.WorkingDir = start
		err := cli.WithDefaultConfigPath(o)
		o.WorkingDir = ""
		return err
	}
}

func findUp(dir string, names []string) string {
	for {
		for _, n := range names {
			f := filepath.Join(dir, n)
			if st, err := os.Stat(f); err == nil && !st.IsDir() {
				return f
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func absFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

func absAll(base string, ps []string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, absFrom(base, p))
	}
	return out
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

var keyInMsg = regexp.MustCompile(`(services(\.[A-Za-z0-9_.\-\[\]]+)?|networks\.[A-Za-z0-9_.\-]+|volumes\.[A-Za-z0-9_.\-]+|x-devenv[A-Za-z0-9_.\-]*)`)

// wrapLoadErr turns a compose-go error into a ConfigError naming the file
// (when compose-go's message does not) and the key it mentions.
func wrapLoadErr(files []string, err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	if ye := yamlError(files, msg); ye != nil {
		return ye
	}
	file := ""
	for _, f := range files {
		if strings.Contains(msg, f) {
			file = f
			msg = strings.TrimSpace(strings.NewReplacer("validating "+f+":", "", f+":", "", f, "").Replace(msg))
			break
		}
	}
	if file == "" && len(files) > 0 {
		file = strings.Join(files, ", ")
	}
	key := ""
	if m := keyInMsg.FindString(msg); m != "" {
		key = strings.TrimRight(m, ".")
	} else if m := serviceInMsg.FindStringSubmatch(msg); m != nil {
		key = "services." + m[1]
	}
	if key == "" && portErr.MatchString(msg) {
		if f, k := locatePortError(files); k != "" {
			file, key = f, k
		}
	}
	if key != "" && strings.HasPrefix(msg, key) {
		msg = strings.TrimLeft(strings.TrimPrefix(msg, key), " :")
	}
	return &ConfigError{File: file, Key: key, Msg: msg, Err: err}
}

// yamlError says a YAML syntax error devenv's way, FILE:LINE:COL: what
// is wrong, instead of the parser's "(while parsing a block mapping) at
// L2.C3-L4.C4". The file is the one that fails to parse alone (compose-go's
// message may not name it); the position is where the parser gave up, or
// where a [ or { list that never closes began. nil when msg is no YAML
// error.
func yamlError(files []string, msg string) error {
	if !strings.Contains(msg, "yaml") {
		return nil
	}
	file, alone := "", ""
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			var n yaml.Node
			if perr := yaml.Unmarshal(data, &n); perr != nil {
				file, alone = f, strings.TrimPrefix(perr.Error(), "yaml: ")
				break
			}
		}
		if strings.Contains(msg, f) {
			file = f
		}
	}
	if file == "" {
		file = strings.Join(files, ", ")
	}
	pos, reason := "", ""
	if m := yamlRange.FindStringSubmatch(msg); m != nil {
		line, col := m[2], m[3]
		if m[4] != "" && !strings.Contains(m[1], "flow") {
			line, col = m[4], m[5]
		}
		pos, reason = ":"+line+":"+col, m[6]
		if strings.Contains(m[1], "flow") {
			reason += " (the list opened here is not closed)"
		}
	} else if all := yamlLine.FindAllStringSubmatchIndex(msg, -1); all != nil {
		last := all[len(all)-1]
		pos, reason = ":"+msg[last[2]:last[3]], msg[last[1]:]
	} else if alone != "" {
		reason = alone
		if m := regexp.MustCompile(`^line (\d+): (.*)`).FindStringSubmatch(alone); m != nil {
			pos, reason = ":"+m[1], m[2]
		}
	} else {
		return nil
	}
	return &ConfigError{File: file + pos, Msg: yamlHint(strings.TrimSpace(reason)), Err: ErrConfig}
}

// yamlHint adds what usually causes the parser's complaint.
func yamlHint(reason string) string {
	switch {
	case strings.Contains(reason, "did not find expected key"):
		return reason + "; a line indented differently from the lines beside it, or a missing ':'"
	case strings.Contains(reason, "mapping values are not allowed"):
		return reason + "; a value with ': ' in it needs quotes"
	case strings.Contains(reason, "found character that cannot start any token"):
		return reason + "; tabs cannot indent YAML, use spaces"
	case strings.Contains(reason, "already defined"):
		return reason + "; a key may appear once in a mapping"
	}
	return reason
}

var (
	yamlRange    = regexp.MustCompile(`(?:\(while ([^)]*)\) )?at L(\d+)\.C(\d+)(?:-L(\d+)\.C(\d+))?: (.*)`)
	yamlLine     = regexp.MustCompile(`line (\d+): `)
	serviceInMsg = regexp.MustCompile(`service "([^"]+)"`)
	portErr      = regexp.MustCompile(`(?i)invalid (hostPort|containerPort|proto|port)|port`)
)

// locatePortError finds the first short-syntax port entry that does not
// parse, to name its service and index.
func locatePortError(files []string) (string, string) {
	for _, f := range files {
		raw, err := readRaw(f)
		if err != nil {
			continue
		}
		services, _ := raw["services"].(map[string]any)
		for _, name := range sortedKeys(services) {
			svc, _ := services[name].(map[string]any)
			ports, _ := svc["ports"].([]any)
			for i, p := range ports {
				text := fmt.Sprint(p)
				if strings.Contains(text, "$") {
					continue
				}
				if _, ok := p.(map[string]any); ok {
					continue
				}
				if _, err := types.ParsePortConfig(text); err != nil {
					return f, fmt.Sprintf("services.%s.ports[%d]", name, i)
				}
			}
		}
	}
	return "", ""
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// checkUnsetPortVars refuses a published port that depends on a variable that
// is not set: compose would silently publish a random port instead.
func checkUnsetPortVars(files []string, env map[string]string) error {
	for _, f := range files {
		raw, err := readRaw(f)
		if err != nil || raw == nil {
			continue
		}
		services, _ := raw["services"].(map[string]any)
		names := make([]string, 0, len(services))
		for n := range services {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			svc, _ := services[name].(map[string]any)
			ports, _ := svc["ports"].([]any)
			for i, p := range ports {
				text := ""
				switch v := p.(type) {
				case string:
					text = v
				case map[string]any:
					if pub, ok := v["published"].(string); ok {
						text = pub
					}
				}
				for _, m := range varRef.FindAllStringSubmatch(text, -1) {
					name2, mod := m[1], m[2]
					if name2 == "" {
						name2 = m[3]
					}
					if strings.HasPrefix(mod, ":-") || strings.HasPrefix(mod, "-") || strings.HasPrefix(mod, ":?") || strings.HasPrefix(mod, "?") {
						continue
					}
					if v, ok := env[name2]; !ok || v == "" {
						return &ConfigError{File: f, Key: fmt.Sprintf("services.%s.ports[%d]", name, i),
							Msg: fmt.Sprintf("published port %q uses variable %s, which is not set (set it, or give a default with ${%s:-PORT})", text, name2, name2)}
					}
				}
			}
		}
	}
	return nil
}
