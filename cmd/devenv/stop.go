package main

import (
	"context"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// stopOptions are stop's flags and services.
type stopOptions struct {
	Services []string
	Timeout  timeoutOption
	DryRun   bool
}

func newStopCmd(a *app) *cli.Command {
	opts := &stopOptions{}
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop services, keeping their containers",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv stop\n   devenv stop electric",
		Flags:     []cli.Flag{opts.Timeout.flag(), dryRunFlag(&opts.DryRun)},
		Action: func(c *cli.Context) error {
			opts.Services = c.Args().Slice()
			return runStop(c.Context, a, opts)
		},
	}
}

func runStop(ctx context.Context, a *app, opts *stopOptions) error {
	timeout, err := opts.Timeout.get("stop")
	if err != nil {
		return err
	}
	return a.withOrch(ctx, loading{ByName: true}, func(o *orchestrator.Orchestrator, p *project) error {
		so := orchestrator.StopOptions{Services: opts.Services, Timeout: timeout}
		if opts.DryRun || a.dryRun {
			return a.printPlan(o.PlanStop(ctx, p, so))
		}
		return o.Stop(ctx, p, so)
	})
}
