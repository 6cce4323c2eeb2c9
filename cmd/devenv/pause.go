package main

import (
	"context"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// newPauseCmd is compose's pause (pause) or unpause.
func newPauseCmd(a *app, name, usage string, pause bool) *cli.Command {
	return &cli.Command{
		Name: name, Usage: usage, ArgsUsage: "[SERVICE...]", UsageText: "devenv " + name + " electric",
		Action: func(c *cli.Context) error { return runPause(c.Context, a, c.Args().Slice(), pause) },
	}
}

func runPause(ctx context.Context, a *app, services []string, pause bool) error {
	return a.withOrch(ctx, loading{}, func(o *orchestrator.Orchestrator, p *project) error {
		return o.Pause(ctx, p, services, pause)
	})
}
