package main

import (
	"context"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// restartOptions are restart's flags and services.
type restartOptions struct {
	Services []string
	Timeout  timeoutOption
	NoDeps   bool
	DryRun   bool
}

func newRestartCmd(a *app) *cli.Command {
	opts := &restartOptions{}
	return &cli.Command{
		Name:      "restart",
		Usage:     "stop and start services",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv restart redis",
		Flags: []cli.Flag{opts.Timeout.flag(),
			&cli.BoolFlag{Name: "no-deps", Usage: "accepted: devenv restart restarts only the named services", Destination: &opts.NoDeps},
			dryRunFlag(&opts.DryRun)},
		Action: func(c *cli.Context) error {
			opts.Services = c.Args().Slice()
			return runRestart(c.Context, a, opts)
		},
	}
}

func runRestart(ctx context.Context, a *app, opts *restartOptions) error {
	timeout, err := opts.Timeout.get("restart")
	if err != nil {
		return err
	}
	return a.withOrch(ctx, loading{}, func(o *orchestrator.Orchestrator, p *project) error {
		so := orchestrator.StopOptions{Services: opts.Services, Timeout: timeout}
		if opts.DryRun || a.dryRun {
			return a.printPlan(o.PlanRestart(ctx, p, so))
		}
		return o.Restart(ctx, p, so)
	})
}
