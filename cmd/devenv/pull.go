package main

import (
	"context"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// pullOptions are pull's flags and services.
type pullOptions struct {
	Services                                            []string
	IgnoreBuildable, IgnoreFailures, IncludeDeps, Quiet bool
	Policy                                              string
}

func newPullCmd(a *app) *cli.Command {
	o := &pullOptions{}
	return &cli.Command{
		Name:      "pull",
		Usage:     "pull services' images",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv pull\n   devenv pull --policy missing postgres",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "ignore-buildable", Usage: "accepted: services without image: are never pulled", Destination: &o.IgnoreBuildable},
			&cli.BoolFlag{Name: "ignore-pull-failures", Usage: "warn about images that cannot be pulled and go on", Destination: &o.IgnoreFailures},
			&cli.BoolFlag{Name: "include-deps", Usage: "also pull the services the named ones depend on", Destination: &o.IncludeDeps},
			&cli.StringFlag{Name: "policy", Usage: "missing (only absent images) or always (default: each service's pull_policy; never and build skip it)", Destination: &o.Policy},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output", Destination: &o.Quiet},
		},
		Action: func(c *cli.Context) error {
			o.Services = c.Args().Slice()
			return runPull(c.Context, a, o)
		},
	}
}

func runPull(ctx context.Context, a *app, o *pullOptions) error {
	switch o.Policy {
	case "", "missing", "always":
	default:
		return usagef("pull: --policy %q: use missing or always", o.Policy)
	}
	return a.withOrch(ctx, loading{Quiet: o.Quiet}, func(orch *orchestrator.Orchestrator, p *project) error {
		return orch.Pull(ctx, p, orchestrator.PullOptions{Services: o.Services, Policy: o.Policy, IgnoreFailures: o.IgnoreFailures, IncludeDeps: o.IncludeDeps})
	})
}
