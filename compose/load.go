package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

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
	// Instance names the instance to load the project as (--instance,
	// DEVENV_INSTANCE); DetectInstance finds it from a linked git worktree
	// when none is named.
	Instance       string
	DetectInstance bool
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
	// Instance is the instance this project is ("" for the main checkout).
	Instance string
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

// Named is a project known by its name alone, without a file (what
// docker compose -p NAME down works on); dir is its directory.
func Named(name, dir string) *Project {
	return &Project{Model: &types.Project{Name: name, WorkingDir: dir, Services: types.Services{}}, ServiceX: map[string]ServiceExtension{}}
}

// Load reads and validates the project the way docker compose would.
func Load(ctx context.Context, o Options) (*Project, error) {
	if o.Instance != "" && InstanceName(o.Instance) == "" {
		return nil, &ConfigError{File: "--instance", Msg: fmt.Sprintf("instance %q has no letter or digit: name it with letters, digits and dashes (--instance, DEVENV_INSTANCE)", o.Instance)}
	}
	files, start, workDir, err := resolve(o)
	if err != nil {
		return nil, err
	}
	opts, err := projectOptions(files, workDir, start, o)
	if err != nil {
		return nil, wrapLoadErr(files, err)
	}
	if len(opts.ConfigPaths) == 0 && o.AllowMissing && o.ProjectName != "" {
		return Named(o.ProjectName, start), nil
	}
	if len(opts.ConfigPaths) == 0 {
		return nil, &ConfigError{File: start, Msg: fmt.Sprintf("no %s or compose file found here or in any parent directory (use -f)", DefaultFileNames[0]), Err: ErrNoFile}
	}
	for _, f := range opts.ConfigPaths {
		if _, err := os.Stat(f); err != nil && f != "-" {
			why := "cannot read compose file"
			switch {
			case errors.Is(err, fs.ErrNotExist):
				why = "no such compose file"
			case errors.Is(err, fs.ErrPermission):
				why = "cannot read compose file: permission denied"
			}
			return nil, &ConfigError{File: f, Msg: why, Err: err}
		}
	}
	model, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, wrapLoadErr(opts.ConfigPaths, err)
	}
	p := &Project{Model: model, Files: append([]string(nil), opts.ConfigPaths...), loaded: &o}
	if own := blockName(model.WorkingDir); own != "" && own == model.Name && o.ProjectName == "" && !nameGiven(o, model.WorkingDir) {
		// devenv's own .env block named it (an instance's, or one copied
		// or committed): again without it, for the project's own name.
		again := o
		again.Environ = append(slices.Clone(o.Environ), "COMPOSE_PROJECT_NAME=")
		if again.Instance == "" {
			again.Instance = instanceFor(o, model.WorkingDir)
		}
		if again.Instance == "" {
			again.DetectInstance = false
		}
		return Load(ctx, again)
	}
	if instance := instanceFor(o, model.WorkingDir); instance != "" {
		if rename := p.asInstance(instance, o); rename != "" {
			// Again under the instance's name: networks and volumes are
			// named from it when the file is loaded.
			again := o
			again.ProjectName, again.Instance = rename, instance
			return Load(ctx, again)
		}
	}
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
