package main

import (
	"context"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// buildOptions are build's flags and services.
type buildOptions struct {
	Services                               []string
	BuildArgs                              cli.StringSlice
	NoCache, Pull, Quiet, WithDependencies bool
}

func newBuildCmd(a *app) *cli.Command {
	o := &buildOptions{}
	return &cli.Command{
		Name:      "build",
		Usage:     "build services' images through the engine (compose's names and labels)",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv build\n   devenv build --no-cache --pull api",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "build-arg", Usage: "set a build argument (K=V, or K from the environment)", Destination: &o.BuildArgs},
			&cli.BoolFlag{Name: "no-cache", Usage: "do not use the engine's build cache", Destination: &o.NoCache},
			&cli.BoolFlag{Name: "pull", Usage: "always pull the base images", Destination: &o.Pull},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output", Destination: &o.Quiet},
			&cli.BoolFlag{Name: "with-dependencies", Usage: "also build the services the named ones depend on", Destination: &o.WithDependencies},
		},
		Action: func(c *cli.Context) error {
			o.Services = c.Args().Slice()
			return runBuild(c.Context, a, o)
		},
	}
}

func runBuild(ctx context.Context, a *app, o *buildOptions) error {
	args := map[string]*string{}
	for _, kv := range o.BuildArgs.Value() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			args[k] = &v
		} else {
			args[k] = nil // K alone: the core takes it from the environment
		}
	}
	return a.withOrch(ctx, loading{Quiet: o.Quiet}, func(orch *orchestrator.Orchestrator, p *project) error {
		return orch.Build(ctx, p, orchestrator.BuildOptions{Services: o.Services, NoCache: o.NoCache,
			Pull: o.Pull, Quiet: o.Quiet, Args: args, WithDeps: o.WithDependencies})
	})
}
