package main

import (
	"context"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// startOptions are start's flags and services.
type startOptions struct {
	Services     []string
	Wait, DryRun bool
	WaitTimeout  string
}

func newStartCmd(a *app) *cli.Command {
	opts := &startOptions{}
	return &cli.Command{
		Name:      "start",
		Usage:     "start existing containers of services",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv start\n   devenv start --wait postgres",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "wait", Usage: "return once the containers run and are healthy", Destination: &opts.Wait},
			&cli.StringFlag{Name: "wait-timeout", Value: "120", Usage: "how long --wait waits: seconds as in compose (120), or a duration (2m)", Destination: &opts.WaitTimeout},
			dryRunFlag(&opts.DryRun),
		},
		Action: func(c *cli.Context) error {
			opts.Services = c.Args().Slice()
			return runStart(c.Context, a, opts)
		},
	}
}

func runStart(ctx context.Context, a *app, opts *startOptions) error {
	waitTimeout, err := parseWaitTimeout(opts.WaitTimeout)
	if err != nil {
		return err
	}
	return a.withOrch(ctx, loading{}, func(o *orchestrator.Orchestrator, p *project) error {
		so := orchestrator.StartOptions{Services: opts.Services, Wait: opts.Wait, WaitTimeout: waitTimeout}
		if opts.DryRun || a.dryRun {
			return a.printPlan(o.PlanStart(ctx, p, so))
		}
		return o.Start(ctx, p, so)
	})
}
