package main

import (
	"context"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// createOptions are create's flags and services: up without starting.
type createOptions struct {
	Services                                      []string
	ForceRecreate, NoRecreate, RemoveOrphans, Yes bool
	Pull                                          string
	QuietPull, Build, NoBuild, DryRun             bool
}

func newCreateCmd(a *app) *cli.Command {
	o := &createOptions{}
	return &cli.Command{
		Name:      "create",
		Usage:     "reconcile ports and create (or recreate) services' containers without starting them",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv create\n   devenv create --force-recreate postgres",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force-recreate", Usage: "recreate containers even if unchanged", Destination: &o.ForceRecreate},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers of services not in the file", Destination: &o.RemoveOrphans},
			&cli.StringFlag{Name: "pull", Usage: "pull images: always, missing, never (default: each service's pull_policy, else missing)", Destination: &o.Pull},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "accepted: devenv asks no questions", Destination: &o.Yes},
			&cli.BoolFlag{Name: "no-recreate", Usage: "keep existing containers even if the file changed them", Destination: &o.NoRecreate},
			&cli.BoolFlag{Name: "quiet-pull", Usage: "pull without reporting progress", Destination: &o.QuietPull},
			&cli.BoolFlag{Name: "build", Usage: "build images before creating (default: only those that are missing)", Destination: &o.Build},
			&cli.BoolFlag{Name: "no-build", Usage: "do not build images, even missing ones", Destination: &o.NoBuild},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing", Destination: &o.DryRun},
		},
		Action: func(c *cli.Context) error {
			o.Services = c.Args().Slice()
			return runCreate(c.Context, a, o)
		},
	}
}

func runCreate(ctx context.Context, a *app, o *createOptions) error {
	pull, err := pullPolicy(o.Pull)
	if err != nil {
		return err
	}
	if o.ForceRecreate && o.NoRecreate {
		return usagef("create: --force-recreate and --no-recreate contradict each other")
	}
	dryRun := o.DryRun || a.dryRun
	return a.withOrch(ctx, loading{}, func(orch *orchestrator.Orchestrator, p *project) error {
		res, err := orch.Up(ctx, p, orchestrator.UpOptions{Services: o.Services, ForceRecreate: o.ForceRecreate,
			NoRecreate: o.NoRecreate, QuietPull: o.QuietPull, Build: buildPolicy(o.Build, o.NoBuild),
			RemoveOrphans: o.RemoveOrphans, Pull: pull, NoStart: true, NoWait: true, DryRun: dryRun})
		if err == nil && dryRun {
			_, err = a.stdout.Write([]byte(res.Plan.Render() + "\n"))
		}
		return err
	})
}
