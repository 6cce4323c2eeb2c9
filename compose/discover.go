package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
)

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
		if st, err := os.Stat(workDir); err != nil {
			return nil, "", "", &ConfigError{File: workDir, Msg: "--project-directory: no such directory"}
		} else if !st.IsDir() {
			return nil, "", "", &ConfigError{File: workDir, Msg: "--project-directory: a file, not a directory (-f names a compose file)"}
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
