package main

import (
	"context"
	"fmt"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// waitOptions are wait's flags and services.
type waitOptions struct {
	Services    []string
	DownProject bool
}

func newWaitCmd(a *app) *cli.Command {
	o := &waitOptions{}
	return &cli.Command{
		Name:      "wait",
		Usage:     "block until the services' containers and host services stop; exits with the last one's code",
		ArgsUsage: "SERVICE...",
		UsageText: "devenv wait migrate\n   devenv wait --down-project tests",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "down-project", Usage: "take the project down when the first container stops", Destination: &o.DownProject}},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("wait: name at least one service")
			}
			o.Services = c.Args().Slice()
			return runWait(c.Context, a, o)
		},
	}
}

func runWait(ctx context.Context, a *app, o *waitOptions) error {
	last := 0
	err := a.withOrch(ctx, loading{}, func(orch *orchestrator.Orchestrator, p *project) error {
		return orch.Wait(ctx, p, o.Services, o.DownProject, func(r orchestrator.WaitResult) {
			if r.Host != "" {
				fmt.Fprintf(a.stdout, "host service %q exited with status code %d\n", r.Host, r.ExitCode)
			} else {
				fmt.Fprintf(a.stdout, "container %q exited with status code %d\n", r.ID, r.ExitCode)
			}
			last = r.ExitCode
		})
	})
	if err == nil && last > 0 {
		return &exitError{code: last}
	}
	return err
}
