package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// portsAssignOptions are ports assign's flags and services.
type portsAssignOptions struct {
	Services                     []string
	Reassign, StrictPorts, Adopt bool
}

func newPortsAssignCmd(a *app) *cli.Command {
	o := &portsAssignOptions{}
	return &cli.Command{
		Name:      "assign",
		Usage:     "reserve this project's ports by the allocation rules",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv ports assign\n   devenv ports assign --reassign postgres   # next free port of its rule",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "reassign", Usage: "move the named services (all without names) by the rules again", Destination: &o.Reassign},
			&cli.BoolFlag{Name: "strict-ports", Usage: "fail instead of moving a taken requested port", Destination: &o.StrictPorts},
			&cli.BoolFlag{Name: "adopt", Usage: "keep the ports of a project whose directory moved here", Destination: &o.Adopt},
		},
		Action: func(c *cli.Context) error {
			o.Services = c.Args().Slice()
			return runPortsAssign(c.Context, a, o)
		},
	}
}

func runPortsAssign(ctx context.Context, a *app, o *portsAssignOptions) error {
	p, err := a.project(ctx)
	if err != nil {
		return err
	}
	if err := p.CheckNames(o.Services); err != nil {
		return err
	}
	orch, err := a.portsOrch()
	if err != nil {
		return err
	}
	res, err := orch.ReconcilePorts(ctx, p, orchestrator.PortOptions{Reassign: o.Reassign, Only: o.Services, Strict: o.StrictPorts, Adopt: o.Adopt})
	if err != nil {
		return err
	}
	for _, m := range res.Remaps {
		fmt.Fprintln(a.stderr, m.String())
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tROLE\tTARGET\tHOST PORT")
	for _, r := range res.Project.Reservations {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d/%s\n", r.Service, r.Role, r.Target, r.Port, r.Protocol)
	}
	return tw.Flush()
}
