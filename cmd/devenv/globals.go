package main

import (
	"fmt"
	"sync"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
)

// libraryLog prints what compose-go logs (through logrus) devenv's way,
// each message once: "devenv: warning: FILE: the attribute `version` is
// obsolete…", not "level=warning msg=…".
type libraryLog struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (l *libraryLog) Format(e *logrus.Entry) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[e.Message] {
		return nil, nil
	}
	l.seen[e.Message] = true
	level := e.Level.String()
	if e.Level == logrus.WarnLevel {
		level = "warning"
	}
	return []byte("devenv: " + level + ": " + e.Message + "\n"), nil
}

// globalOptions are compose's global flags, bound to one app's values.
type globalOptions struct {
	Files, Profiles, EnvFiles                         cli.StringSlice
	ProjectName, ProjectDir, Registry, Progress, Ansi string
	Workdir, Instance                                 string
	Parallel                                          int
	DryRun, NoAnsi, Verbose                           bool
}

// flags are the global flags, each bound to its field of g.
func (g *globalOptions) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Destination: &g.Files, Usage: "compose file (repeatable, merged in order; default docker-compose.dev.yml here or in a parent)"},
		&cli.StringFlag{Name: "project-name", Aliases: []string{"p"}, Destination: &g.ProjectName, Usage: "project name (default: COMPOSE_PROJECT_NAME, the file's name:, or the directory)"},
		&cli.StringSliceFlag{Name: "profile", Destination: &g.Profiles, Usage: "enable a profile (repeatable; default COMPOSE_PROFILES)"},
		&cli.StringSliceFlag{Name: "env-file", Destination: &g.EnvFiles, Usage: "environment file for interpolation (default .env in the project directory)"},
		&cli.StringFlag{Name: "project-directory", Destination: &g.ProjectDir, Usage: "project directory (default: the first compose file's directory)"},
		&cli.StringFlag{Name: "registry", Destination: &g.Registry, Usage: "port registry file (default DEVENV_REGISTRY, $XDG_CONFIG_HOME/devenv/registry.yaml, ~/.config/devenv/registry.yaml)"},
		&cli.StringFlag{Name: "instance", Destination: &g.Instance, Usage: "run this checkout as an instance of its project: PROJECT-INSTANCE, its own containers, ports, volumes and names (default DEVENV_INSTANCE, else a linked git worktree's directory name)"},
		&cli.StringFlag{Name: "progress", Destination: &g.Progress, Usage: "progress output: auto, tty, plain, json, quiet", Value: "auto"},
		&cli.StringFlag{Name: "ansi", Destination: &g.Ansi, Value: "auto", Usage: "control characters: never (as NO_COLOR) or auto"},
		&cli.IntFlag{Name: "parallel", Destination: &g.Parallel, Value: -1, Usage: "at most this many engine calls at once; -1 for no limit"},
		&cli.BoolFlag{Name: "dry-run", Destination: &g.DryRun, Usage: "with " + dryRunCommands + ": print the plan and change nothing"},
		// compose's hidden and deprecated globals.
		&cli.StringFlag{Name: "workdir", Destination: &g.Workdir, Hidden: true},
		&cli.BoolFlag{Name: "no-ansi", Destination: &g.NoAnsi, Hidden: true},
		&cli.BoolFlag{Name: "verbose", Destination: &g.Verbose, Hidden: true},
	}
}

// globalFlags are the global flags by name and kind, bound to nothing:
// for reading a command line before it is parsed, and for suggestions.
var globalFlags = (&globalOptions{}).flags()

// checkGlobals applies the globals compose has for output and parallelism,
// and refuses what devenv cannot do, before any command runs.
func (a *app) checkGlobals(c *cli.Context) error {
	g := &a.globals
	switch ansi := g.Ansi; {
	case ansi == "never" || g.NoAnsi:
		a.noColor = true
		if a.progress == "auto" {
			a.progress = "plain"
		}
	case ansi == "auto":
	case ansi == "always":
		return usagef("--ansi always: devenv uses control characters only on a terminal; use auto or never")
	default:
		return usagef("--ansi %q: use never or auto", ansi)
	}
	if n := g.Parallel; n != -1 && n < 1 {
		return usagef("--parallel %d: use a number of calls, 1 or more, or -1 for no limit", n)
	}
	if g.Verbose {
		return usagef("--verbose: devenv has no debug output; --progress plain prints each step")
	}
	if a.dryRun = g.DryRun; a.dryRun {
		if cmd := c.Args().First(); !hasDryRun(cmd) {
			return usagef("--dry-run: %s", refusals["* --dry-run"])
		}
	}
	if a.projectDir == "" {
		a.projectDir = g.Workdir
	}
	return nil
}

// dryRunCommands are the commands with a dry run: they print their plan,
// one engine call a line, and change nothing.
const dryRunCommands = "up, create, down, stop, start, restart, rm and kill"

func hasDryRun(command string) bool {
	switch command {
	case "up", "create", "down", "stop", "start", "restart", "rm", "kill":
		return true
	}
	return false
}

// dryRunFlag is a command's own --dry-run.
func dryRunFlag(v *bool) cli.Flag {
	return &cli.BoolFlag{Name: "dry-run", Usage: "print the plan, one engine call a line, and change nothing", Destination: v}
}

// printPlan writes a dry run's plan to stdout, one step a line.
func (a *app) printPlan(plan *orchestrator.Plan, err error) error {
	if err != nil || len(plan.Steps) == 0 {
		return err
	}
	_, err = fmt.Fprintln(a.stdout, plan.Render())
	return err
}
