package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"
)

// portsWhyOptions are ports why's flags and port.
type portsWhyOptions struct {
	Port, Format string
	NArg         int
}

func newPortsWhyCmd(a *app) *cli.Command {
	o := &portsWhyOptions{}
	return &cli.Command{
		Name:      "why",
		Usage:     "who holds PORT: a registry project, a container, or a host process",
		ArgsUsage: "PORT",
		UsageText: "devenv ports why 5432",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json", Destination: &o.Format}},
		Action: func(c *cli.Context) error {
			o.Port, o.NArg = c.Args().First(), c.NArg()
			return runPortsWhy(c.Context, a, o)
		},
	}
}

func runPortsWhy(ctx context.Context, a *app, o *portsWhyOptions) error {
	format, err := checkFormat(o.Format, "table", "json")
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(o.Port)
	if err != nil || port < 1 || port > 65535 || o.NArg != 1 {
		return usagef("ports why: need one port number 1-65535")
	}
	orch, err := a.portsOrch()
	if err != nil {
		return err
	}
	holders, err := orch.Why(ctx, port)
	notAsked := err
	if err != nil && !a.noteNotAsked(err) {
		return err
	}
	if format == "json" {
		if err := writeJSONLines(a.stdout, holders); err != nil {
			return err
		}
		if len(holders) == 0 && notAsked != nil {
			return &exitError{code: exitEngine}
		}
		return nil
	}
	if len(holders) == 0 && notAsked != nil {
		// Free as far as it could tell: the containers decide.
		fmt.Fprintf(a.stdout, "%d: no reservation, no listening process here (containers not checked)\n", port)
		return &exitError{code: exitEngine}
	}
	if len(holders) == 0 {
		fmt.Fprintf(a.stdout, "%d is free: no reservation, no container, no listening process\n", port)
		return nil
	}
	for _, h := range holders {
		fmt.Fprintf(a.stdout, "%d: %s\n", port, h)
	}
	return nil
}
