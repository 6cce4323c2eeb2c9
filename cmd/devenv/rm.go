package main

import (
	"context"
	"fmt"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// rmOptions are rm's flags and services.
type rmOptions struct {
	Services                     []string
	Force, Stop, Volumes, DryRun bool
}

func newRmCmd(a *app) *cli.Command {
	opts := &rmOptions{}
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove services' stopped containers (named volumes always stay)",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv rm -f electric\n   devenv rm -s -f redis   # stop it first",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "accepted: devenv does not ask (it lists what it removed)", Destination: &opts.Force},
			&cli.BoolFlag{Name: "stop", Aliases: []string{"s"}, Usage: "stop the containers first", Destination: &opts.Stop},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove the containers' anonymous volumes too", Destination: &opts.Volumes},
			dryRunFlag(&opts.DryRun),
		},
		Action: func(c *cli.Context) error {
			opts.Services = c.Args().Slice()
			return runRm(c.Context, a, opts)
		},
	}
}

func runRm(ctx context.Context, a *app, opts *rmOptions) error {
	return a.withOrch(ctx, loading{ByName: true}, func(o *orchestrator.Orchestrator, p *project) error {
		ro := orchestrator.RmOptions{Services: opts.Services, Stop: opts.Stop, Volumes: opts.Volumes}
		if opts.DryRun || a.dryRun {
			return a.printPlan(o.PlanRm(ctx, p, ro))
		}
		removed, err := o.Rm(ctx, p, ro)
		if err == nil && len(removed) == 0 {
			fmt.Fprintln(a.stderr, "No stopped containers")
		}
		return err
	})
}
