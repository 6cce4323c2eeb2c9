package main

import (
	"context"
	"fmt"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// connectOptions are connect's flags and service.
type connectOptions struct {
	Service    string
	URL, NoTTY bool
}

func newConnectCmd(a *app) *cli.Command {
	o := &connectOptions{}
	return &cli.Command{
		Name:      "connect",
		Usage:     "open a database service's own client (psql, redis-cli) inside its container, or print its URL",
		ArgsUsage: "[SERVICE]",
		UsageText: "devenv connect postgres\n   echo 'select 1' | devenv connect -T postgres\n   psql \"$(devenv connect --url postgres)\"",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "url", Usage: "print the URL a tool on this machine would use, with the assigned port", Destination: &o.URL},
			&cli.BoolFlag{Name: "no-tty", Aliases: []string{"T"}, Usage: "no pseudo-terminal, even when stdin is one", Destination: &o.NoTTY},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 1 {
				return usagef("connect: give at most one service")
			}
			o.Service = c.Args().First()
			return runConnect(c.Context, a, o)
		},
	}
}

func runConnect(ctx context.Context, a *app, o *connectOptions) error {
	p, orch, err := a.projectOrch(ctx)
	if err != nil {
		return err
	}
	cl, err := orch.Connect(ctx, p, o.Service, o.URL)
	if err != nil {
		return err
	}
	if o.URL {
		fmt.Fprintln(a.stdout, cl.URL)
		return nil
	}
	streams := a.streams(!o.NoTTY, true)
	defer a.raw(&streams)()
	code, err := orch.Exec(ctx, p, orchestrator.ExecOptions{Service: cl.Service, Streams: streams, Spec: orchestrator.ExecSpec{Cmd: cl.Cmd, Env: cl.Env}})
	return exitWith(code, err)
}
