package compose

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// LinkedWorktree finds the git checkout dir belongs to, without git: the
// nearest directory at or above dir holding a .git. A .git that is a file
// naming a gitdir under …/worktrees/ marks a linked worktree (git worktree
// add); root is its top directory. The main checkout, or no checkout, is
// not linked.
func LinkedWorktree(dir string) (root string, linked bool) {
	for d := dir; ; d = filepath.Dir(d) {
		info, err := os.Lstat(filepath.Join(d, ".git"))
		if err == nil {
			if info.IsDir() {
				return d, false
			}
			b, err := os.ReadFile(filepath.Join(d, ".git"))
			if err != nil {
				return d, false
			}
			gitdir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
			gitdir = filepath.ToSlash(strings.TrimSpace(gitdir))
			return d, ok && strings.Contains(gitdir, "/worktrees/")
		}
		if filepath.Dir(d) == d {
			return "", false
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
	if root, linked := LinkedWorktree(projectDir); linked {
		return InstanceName(filepath.Base(root))
	}
	return ""
}

// asInstance makes p an instance's: its project name PROJECT-INSTANCE
// (unless the name was given: -p, or a COMPOSE_PROJECT_NAME of the user's
// own, or devenv's own in .env that already carries the suffix), and each
// container_name X becomes X-INSTANCE. It says whether the project must be
// loaded again under the new name.
func (p *Project) asInstance(instance string, o Options) (rename string) {
	p.Instance = instance
	for name, svc := range p.Model.Services {
		if svc.ContainerName != "" && !strings.HasSuffix(svc.ContainerName, "-"+instance) {
			svc.ContainerName += "-" + instance
			p.Model.Services[name] = svc
		}
	}
	if o.ProjectName != "" || strings.HasSuffix(p.Model.Name, "-"+instance) {
		return ""
	}
	if nameGiven(o, p.Model.WorkingDir) {
		return ""
	}
	return p.Model.Name + "-" + instance
}

// nameGiven says whether COMPOSE_PROJECT_NAME comes from the environment
// or an env file (compose's .env in the project directory, or --env-file).
func nameGiven(o Options, projectDir string) bool {
	for _, kv := range o.Environ {
		if strings.HasPrefix(kv, "COMPOSE_PROJECT_NAME=") {
			return true
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
		for _, line := range strings.Split(string(b), "\n") {
			if k, _, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export ")), "="); ok && strings.TrimSpace(k) == "COMPOSE_PROJECT_NAME" {
				return true
			}
		}
	}
	return false
}
