package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/devenv-dev/devenv/internal/errdefs"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

const (
	blockBegin = "# >>> devenv: managed block, rewritten by `devenv env`; edit x-devenv.env_files instead"
	blockEnd   = "# <<< devenv"
)

// EnvFile is one env file with the values devenv wants in it.
type EnvFile struct {
	Path   string      `json:"path"` // relative to the project directory
	Vars   [][2]string `json:"-"`
	Drift  []string    `json:"drift,omitempty"`
	Exists bool        `json:"exists"`
}

// ErrUnsafePath is an env file devenv refuses to write.
var ErrUnsafePath = errors.New("unsafe env file path")

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
	assigned := assignedPorts(p, ports)
	lookup := func(svc string, target int) (int, bool) { return lookupPort(assigned, svc, target) }
	var out []EnvFile
	for _, rel := range sortedKeys(p.X.EnvFiles) {
		ef := EnvFile{Path: rel}
		for _, k := range sortedKeys(p.X.EnvFiles[rel]) {
			v, err := compose.Expand(p.X.EnvFiles[rel][k], lookup)
			if err != nil {
				return nil, &compose.ConfigError{File: p.MainFile(), Key: "x-devenv.env_files." + rel + "." + k, Msg: err.Error()}
			}
			ef.Vars = append(ef.Vars, [2]string{k, v})
		}
		full, err := safePath(p.Dir(), rel)
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
			ef.Drift = drift(rel, string(current), ef.Vars)
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
		full, err := safePath(p.Dir(), ef.Path)
		if err != nil {
			return unsafeEnv(p, ef.Path, err)
		}
		if err := writeEnvFile(p.Dir(), full, ef.Vars); err != nil {
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
		full, err := safePath(p.Dir(), ef.Path)
		if err != nil {
			return unsafeEnv(p, ef.Path, err)
		}
		if b, err := os.ReadFile(full); err == nil {
			if _, err := renderEnv(string(b), ef.Vars); err != nil {
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
	if len(p.X.EnvFiles) == 0 {
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

// safePath resolves rel inside dir and refuses anything that would write
// outside it or through a symlink.
func safePath(dir, rel string) (string, error) {
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w: %s is absolute", ErrUnsafePath, rel)
	}
	full := filepath.Join(dir, rel)
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("project directory %s: %w", dir, err)
	}
	if !within(root, filepath.Join(root, rel)) {
		return "", fmt.Errorf("%w: %s leaves the project directory %s", ErrUnsafePath, rel, dir)
	}
	// Every existing parent must resolve inside the project.
	parent := filepath.Dir(full)
	for p := parent; within(dir, p); p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if !within(root, real) {
				return "", fmt.Errorf("%w: %s resolves to %s, outside the project directory", ErrUnsafePath, rel, real)
			}
			break
		}
		if p == dir {
			break
		}
	}
	if st, err := os.Lstat(full); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return "", fmt.Errorf("%w: %s is a symlink; devenv never writes through one", ErrUnsafePath, full)
	}
	return full, nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// drift lists how the file's managed block differs from vars.
func drift(rel, content string, vars [][2]string) []string {
	have := map[string]string{}
	inBlock, found := false, false
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case line == blockBegin:
			inBlock, found = true, true
		case line == blockEnd:
			inBlock = false
		case inBlock:
			if k, v, ok := strings.Cut(line, "="); ok {
				have[k] = v
			}
		}
	}
	var out []string
	if !found {
		return []string{rel + ": no devenv block"}
	}
	for _, kv := range vars {
		v, ok := have[kv[0]]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: %s missing (want %s)", rel, kv[0], kv[1]))
		case v != quoteEnv(kv[1]):
			out = append(out, fmt.Sprintf("%s: %s=%s, want %s", rel, kv[0], v, kv[1]))
		}
		delete(have, kv[0])
	}
	for _, k := range sortedKeys(have) {
		out = append(out, fmt.Sprintf("%s: %s is no longer declared", rel, k))
	}
	return out
}

func quoteEnv(v string) string {
	if strings.ContainsAny(v, " #\"'$\\`") {
		return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
	}
	return v
}

// renderEnv replaces (or appends) the managed block, keeping every other
// line as it was.
// renderEnv is content with devenv's block replaced by vars (appended
// where there is none). A block that begins and never ends is refused:
// whatever follows its first line is the user's, not devenv's to drop.
func renderEnv(content string, vars [][2]string) (string, error) {
	var block []string
	block = append(block, blockBegin)
	for _, kv := range vars {
		block = append(block, kv[0]+"="+quoteEnv(kv[1]))
	}
	block = append(block, blockEnd)
	lines := strings.Split(content, "\n")
	var out []string
	replaced, inBlock := false, false
	for _, line := range lines {
		switch {
		case strings.TrimRight(line, "\r") == blockBegin:
			inBlock = true
			if !replaced {
				out = append(out, block...)
				replaced = true
			}
		case inBlock && strings.TrimRight(line, "\r") == blockEnd:
			inBlock = false
		case inBlock:
		default:
			out = append(out, line)
		}
	}
	if inBlock {
		return "", fmt.Errorf("devenv's block begins here but its last line (%s) is missing; put it back after the block, or remove the block's first line, and run devenv again", blockEnd)
	}
	text := strings.Join(out, "\n")
	if !replaced {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += strings.Join(block, "\n") + "\n"
	}
	return text, nil
}

func writeEnvFile(dir, full string, vars [][2]string) error {
	perm := fs.FileMode(0o600)
	current := ""
	if st, err := os.Lstat(full); err == nil {
		perm = st.Mode().Perm()
		b, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		current = string(b)
	}
	parent := filepath.Dir(full)
	if _, err := os.Stat(parent); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return err
		}
		if err := os.Chmod(parent, 0o700); err != nil {
			return err
		}
	}
	text, err := renderEnv(current, vars)
	if err != nil {
		return &compose.ConfigError{File: full, Msg: err.Error()}
	}
	return registry.WriteFileAtomic(full, []byte(text), perm)
}
