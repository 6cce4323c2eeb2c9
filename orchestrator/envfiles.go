package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"strings"

	"github.com/devenv-dev/devenv/internal/errdefs"
	"github.com/devenv-dev/devenv/orchestrator/envfile"

	"github.com/devenv-dev/devenv/compose"
)

// EnvFile is one env file with the values devenv wants in it.
type EnvFile struct {
	Path   string      `json:"path"` // relative to the project directory
	Vars   [][2]string `json:"-"`
	Drift  []string    `json:"drift,omitempty"`
	Exists bool        `json:"exists"`
}

// ErrUnsafePath is an env file devenv refuses to write.
var ErrUnsafePath = envfile.ErrUnsafePath

// EnvFiles computes each declared env file's values from the assigned ports
// and its drift from what is on disk.
func (o *Orchestrator) EnvFiles(ctx context.Context, p *compose.Project) ([]EnvFile, error) {
	ports, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return nil, err
	}
	return envFiles(p, ports)
}

// warnEnvDrift tells, after up, which env files no longer match the ports
// up has just reserved.
func (o *Orchestrator) warnEnvDrift(p *compose.Project, ports *PortResult) {
	if len(p.X.EnvFiles) == 0 {
		return
	}
	files, err := envFiles(p, ports)
	if err != nil {
		return
	}
	for _, ef := range files {
		if len(ef.Drift) > 0 {
			o.warn("", fmt.Sprintf("%s is out of date (%s); run devenv env", ef.Path, strings.Join(ef.Drift, "; ")))
		}
	}
}

func envFiles(p *compose.Project, ports *PortResult) ([]EnvFile, error) {
	ph, _ := placeholders(p, ports)
	declared := maps.Clone(p.X.EnvFiles)
	if declared == nil {
		declared = map[string]map[string]string{}
	}
	if p.Instance != "" {
		// An instance's .env names its project, so that plain docker
		// compose in this directory agrees with devenv.
		if _, ok := declared[".env"]; !ok {
			declared[".env"] = map[string]string{}
		}
	}
	var out []EnvFile
	for _, rel := range sortedKeys(declared) {
		ef := EnvFile{Path: rel}
		for _, k := range sortedKeys(declared[rel]) {
			v, err := ph.Expand(declared[rel][k])
			if err != nil {
				return nil, &compose.ConfigError{File: p.MainFile(), Key: "x-devenv.env_files." + rel + "." + k, Msg: err.Error()}
			}
			ef.Vars = append(ef.Vars, [2]string{k, v})
		}
		if rel == ".env" && p.Instance != "" {
			ef.Vars = append(ef.Vars, [2]string{"COMPOSE_PROJECT_NAME", p.Name()})
		}
		full, err := envfile.SafePath(p.Dir(), rel)
		if err != nil {
			return nil, unsafeEnv(p, rel, err)
		}
		current, err := os.ReadFile(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			ef.Drift = append(ef.Drift, rel+": missing")
		case err != nil:
			return nil, fmt.Errorf("read env file %s: %w", full, err)
		default:
			ef.Exists = true
			ef.Drift = envfile.Drift(rel, string(current), ef.Vars)
		}
		out = append(out, ef)
	}
	return out, nil
}

// WriteEnvFiles rewrites the managed block of every drifted env file.
func (o *Orchestrator) WriteEnvFiles(ctx context.Context, p *compose.Project) ([]EnvFile, error) {
	files, err := o.EnvFiles(ctx, p)
	if err != nil {
		return nil, err
	}
	return files, o.writeEnvFiles(p, files)
}

// writeEnvFiles writes the managed block of each file that drifted, and
// says which it wrote.
func (o *Orchestrator) writeEnvFiles(p *compose.Project, files []EnvFile) error {
	for _, ef := range files {
		if len(ef.Drift) == 0 {
			continue
		}
		full, err := envfile.SafePath(p.Dir(), ef.Path)
		if err != nil {
			return unsafeEnv(p, ef.Path, err)
		}
		if err := envfile.Write(p.Dir(), full, ef.Vars); err != nil {
			if errors.Is(err, errdefs.ErrInvalid) {
				return err // names the file already
			}
			return fmt.Errorf("write env file %s: %w", full, err)
		}
		o.emit(Event{Name: ef.Path, Status: "Written", Detail: strings.Join(ef.Drift, "; ")})
	}
	return nil
}

// checkEnvFiles finds, before up changes anything, an env file up could
// not write (a link, a block without its end line).
func (o *Orchestrator) checkEnvFiles(p *compose.Project, ports *PortResult, opts UpOptions) error {
	if len(p.X.EnvFiles) == 0 || opts.NoEnvFiles || !p.X.UpWritesEnvFiles() {
		return nil
	}
	files, err := envFiles(p, ports)
	if err != nil {
		return err
	}
	for _, ef := range files {
		full, err := envfile.SafePath(p.Dir(), ef.Path)
		if err != nil {
			return unsafeEnv(p, ef.Path, err)
		}
		if b, err := os.ReadFile(full); err == nil {
			if _, err := envfile.Render(string(b), ef.Vars); err != nil {
				return &compose.ConfigError{File: full, Msg: err.Error()}
			}
		}
	}
	return nil
}

// upEnvFiles writes, during up, the env files for the ports up has just
// reserved, before any host service starts (a dev server reads its .env
// when it starts). Opted out (up --no-env-files, x-devenv.write_env_files:
// false), it only warns about drift.
func (o *Orchestrator) upEnvFiles(p *compose.Project, ports *PortResult, opts UpOptions) error {
	if len(p.X.EnvFiles) == 0 && p.Instance == "" {
		return nil
	}
	if opts.NoEnvFiles || !p.X.UpWritesEnvFiles() {
		o.warnEnvDrift(p, ports)
		return nil
	}
	files, err := envFiles(p, ports)
	if err != nil {
		return err
	}
	return o.writeEnvFiles(p, files)
}

// unsafeEnv makes a refused env file path a configuration error (exit 2)
// naming the compose file and the x-devenv key.
func unsafeEnv(p *compose.Project, rel string, err error) error {
	return &compose.ConfigError{File: p.MainFile(), Key: "x-devenv.env_files." + rel, Msg: err.Error(), Err: err}
}
