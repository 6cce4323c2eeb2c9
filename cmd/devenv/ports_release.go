package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// portsReleaseOptions are ports release's flags and project.
type portsReleaseOptions struct{ Project, Engine string }

func newPortsReleaseCmd(a *app) *cli.Command {
	o := &portsReleaseOptions{}
	return &cli.Command{
		Name:      "release",
		Usage:     "drop a project's reservations (this project without a name)",
		ArgsUsage: "[PROJECT]",
		UsageText: "devenv ports release\n   devenv ports release sertantai-auth\n   devenv ports release --engine tcp://build-box:2376 sertantai-auth",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "engine", Usage: "the project's engine: local, an engine's address or its ID (default: the engine devenv uses now)", Destination: &o.Engine},
		},
		Action: func(c *cli.Context) error {
			o.Project = c.Args().First()
			return runPortsRelease(c.Context, a, o)
		},
	}
}

func runPortsRelease(ctx context.Context, a *app, o *portsReleaseOptions) error {
	name := o.Project
	if name == "" {
		p, err := a.project(ctx)
		if err != nil {
			return err
		}
		name = p.Name()
	}
	orch, err := a.portsOrch()
	if err != nil {
		return err
	}
	found, elsewhere, err := orch.ReleasePorts(ctx, name, o.Engine)
	if err != nil {
		return err
	}
	if !found && len(elsewhere) > 0 {
		return usagef("project %q has no reservations on this engine; it is registered on %s: name one with --engine", name, strings.Join(elsewhere, ", "))
	}
	if !found {
		return usagef("project %q has no reservations on that engine in %s", name, a.store.Path)
	}
	fmt.Fprintf(a.stderr, "released the ports of %s\n", name)
	return nil
}
