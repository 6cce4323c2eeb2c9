package main

import (
	"sync"

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

var globalFlags = []cli.Flag{
	&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "compose file (repeatable, merged in order; default docker-compose.dev.yml here or in a parent)"},
	&cli.StringFlag{Name: "project-name", Aliases: []string{"p"}, Usage: "project name (default: COMPOSE_PROJECT_NAME, the file's name:, or the directory)"},
	&cli.StringSliceFlag{Name: "profile", Usage: "enable a profile (repeatable; default COMPOSE_PROFILES)"},
	&cli.StringSliceFlag{Name: "env-file", Usage: "environment file for interpolation (default .env in the project directory)"},
	&cli.StringFlag{Name: "project-directory", Usage: "project directory (default: the first compose file's directory)"},
	&cli.StringFlag{Name: "registry", Usage: "port registry file (default DEVENV_REGISTRY, $XDG_CONFIG_HOME/devenv/registry.yaml, ~/.config/devenv/registry.yaml)"},
	&cli.StringFlag{Name: "progress", Usage: "progress output: auto, tty, plain, json, quiet", Value: "auto"},
	&cli.StringFlag{Name: "ansi", Value: "auto", Usage: "control characters: never (as NO_COLOR) or auto"},
	&cli.IntFlag{Name: "parallel", Value: -1, Usage: "accepted as -1 (compose's default): devenv works in parallel where dependencies allow"},
	&cli.BoolFlag{Name: "dry-run", Usage: "with up or create: print the plan and change nothing"},
	// compose's hidden and deprecated globals.
	&cli.StringFlag{Name: "workdir", Hidden: true},
	&cli.BoolFlag{Name: "no-ansi", Hidden: true},
	&cli.BoolFlag{Name: "verbose", Hidden: true},
}

// checkGlobals applies the globals compose has for output and parallelism,
// and refuses what devenv cannot do, before any command runs.
func (a *app) checkGlobals(c *cli.Context) error {
	switch ansi := c.String("ansi"); {
	case ansi == "never" || c.Bool("no-ansi"):
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
	if n := c.Int("parallel"); n != -1 {
		return usagef("--parallel %d: devenv starts and stops in parallel where dependencies allow, without a limit; leave --parallel out", n)
	}
	if c.Bool("verbose") {
		return usagef("--verbose: devenv has no debug output; --progress plain prints each step")
	}
	if a.dryRun = c.Bool("dry-run"); a.dryRun {
		if cmd := c.Args().First(); cmd != "up" && cmd != "create" {
			return usagef("--dry-run: only devenv up and devenv create have a dry run (they print the plan)")
		}
	}
	if a.projectDir == "" {
		a.projectDir = c.String("workdir")
	}
	return nil
}
