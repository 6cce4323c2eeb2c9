package compose

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
)

// LinkedWorktree finds the git checkout dir belongs to, without git: the
// nearest directory at or above dir holding a .git. A .git that is a file
// naming a gitdir …/.git/worktrees/NAME (git worktree add) marks a linked
// worktree; root is its top directory and main the main checkout's. The
// main checkout, or no checkout, is not linked.
func LinkedWorktree(dir string) (root, main string, linked bool) {
	for d := dir; ; d = filepath.Dir(d) {
		info, err := os.Lstat(filepath.Join(d, ".git"))
		if err == nil {
			if info.IsDir() {
				return d, "", false
			}
			b, err := os.ReadFile(filepath.Join(d, ".git"))
			if err != nil {
				return d, "", false
			}
			gitdir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
			gitdir = filepath.Clean(strings.TrimSpace(gitdir))
			common := filepath.Dir(filepath.Dir(gitdir)) // …/.git
			_, err = os.Stat(filepath.Join(gitdir, "commondir"))
			shaped := filepath.Base(filepath.Dir(gitdir)) == "worktrees" && filepath.Base(common) == ".git"
			if !ok || filepath.Base(filepath.Dir(gitdir)) != "worktrees" || (err != nil && !shaped) {
				return d, "", false // a --separate-git-dir checkout, not a worktree
			}
			return d, filepath.Dir(common), true
		}
		if filepath.Dir(d) == d {
			return "", "", false
		}
	}
}

var notInstanceChar = regexp.MustCompile(`[^a-z0-9]+`)

// InstanceName makes s an instance name safe in DNS labels, compose
// project names and container names: lower case letters, digits and
// single dashes, at most 40 characters (a project name and a service
// still fit a 63-character DNS label beside it); "" when nothing is left.
func InstanceName(s string) string {
	n := strings.Trim(notInstanceChar.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(n) > 40 {
		n = strings.TrimRight(n[:40], "-")
	}
	return n
}

// instanceFor is the instance a load is for: the one asked for, else the
// linked worktree the project directory is in ("" for the main checkout).
func instanceFor(o Options, projectDir string) string {
	if o.Instance != "" {
		return InstanceName(o.Instance)
	}
	if !o.DetectInstance {
		return ""
	}
	if root, _, linked := LinkedWorktree(projectDir); linked {
		return InstanceName(filepath.Base(root))
	}
	return ""
}

// asInstance makes p an instance's: its project name PROJECT-INSTANCE
// (unless the name was given: -p, or a COMPOSE_PROJECT_NAME of the user's
// own), and each container_name X becomes X-INSTANCE. PROJECT is the main
// checkout's project: a name devenv's own .env block gave is taken back to
// it, and a worktree of a file without name: takes the main checkout's
// directory's name, not its own. It returns the name to load the project
// again under ("" when it has it).
func (p *Project) asInstance(instance string, o Options) (rename string) {
	p.Instance = instance
	for name, svc := range p.Model.Services {
		if svc.ContainerName != "" {
			svc.ContainerName += "-" + instance
			p.Model.Services[name] = svc
		}
	}
	if o.ProjectName != "" || nameGiven(o, p.Model.WorkingDir) {
		return ""
	}
	base := p.Model.Name
	if root, main, linked := LinkedWorktree(p.Model.WorkingDir); linked && base == loader.NormalizeProjectName(filepath.Base(root)) {
		base = loader.NormalizeProjectName(filepath.Base(main))
	}
	if want := base + "-" + instance; want != p.Model.Name {
		return want
	}
	return ""
}

// blockBegin and blockEnd mark devenv's managed block in an env file (as
// orchestrator/envfile writes it).
const (
	blockBegin = "# >>> devenv"
	blockEnd   = "# <<< devenv"
)

// blockName is the COMPOSE_PROJECT_NAME in devenv's own block of the
// project directory's .env ("" when none).
func blockName(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, ".env"))
	if err != nil {
		return ""
	}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch t := strings.TrimSpace(line); {
		case strings.HasPrefix(t, blockBegin):
			in = true
		case strings.HasPrefix(t, blockEnd):
			in = false
		case in:
			if v, ok := strings.CutPrefix(t, "COMPOSE_PROJECT_NAME="); ok {
				return strings.Trim(v, `"'`)
			}
		}
	}
	return ""
}

// nameGiven says whether COMPOSE_PROJECT_NAME comes from the environment
// or an env file (compose's .env in the project directory, or --env-file).
func nameGiven(o Options, projectDir string) bool {
	for _, kv := range o.Environ {
		if v, ok := strings.CutPrefix(kv, "COMPOSE_PROJECT_NAME="); ok && v != "" {
			return true // (empty: devenv loading without its own .env block)
		}
	}
	files := o.EnvFiles
	if len(files) == 0 {
		files = []string{filepath.Join(projectDir, ".env")}
	}
	for _, f := range files {
		if !filepath.IsAbs(f) {
			f = filepath.Join(projectDir, f)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		in := false // devenv's own block is not the user's choice
		for _, line := range strings.Split(string(b), "\n") {
			t := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(t, blockBegin):
				in = true
			case strings.HasPrefix(t, blockEnd):
				in = false
			case !in:
				if k, _, ok := strings.Cut(strings.TrimPrefix(t, "export "), "="); ok && strings.TrimSpace(k) == "COMPOSE_PROJECT_NAME" {
					return true
				}
			}
		}
	}
	return false
}
