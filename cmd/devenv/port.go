package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// portOptions are port's flags, service and private port.
type portOptions struct {
	Service, Private, Protocol string
	Index                      int
}

func newPortCmd(a *app) *cli.Command {
	o := &portOptions{}
	return &cli.Command{
		Name:      "port",
		Usage:     "print the host address of a service's published port (its registry assignment when not running)",
		ArgsUsage: "SERVICE PRIVATE_PORT",
		UsageText: "devenv port postgres 5432     # 127.0.0.1:5434",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "protocol", Value: "tcp", Usage: "tcp, udp or sctp", Destination: &o.Protocol}, indexFlag(&o.Index)},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("port: need SERVICE and PRIVATE_PORT")
			}
			o.Service, o.Private = c.Args().Get(0), c.Args().Get(1)
			return runPort(c.Context, a, o)
		},
	}
}

func runPort(ctx context.Context, a *app, o *portOptions) error {
	if err := checkIndex("port", o.Index); err != nil {
		return err
	}
	target, err := strconv.Atoi(strings.Split(o.Private, "/")[0])
	if err != nil || target < 1 || target > 65535 {
		return usagef("port: %q is not a port number", o.Private)
	}
	p, err := a.project(ctx)
	if err != nil {
		return err
	}
	if err := p.CheckNames([]string{o.Service}); err != nil {
		return err
	}
	orch, err := a.orch(orchestrator.Discard{})
	if err != nil {
		return err
	}
	addr, err := orch.Port(ctx, p, o.Service, target, o.Protocol)
	if err != nil && !a.noteNotAsked(err) {
		return err
	}
	fmt.Fprintln(a.stdout, addr)
	return nil
}
