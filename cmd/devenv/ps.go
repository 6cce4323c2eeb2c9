package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// psOptions are ps's flags and services.
type psOptions struct {
	Args     []string
	Format   string
	All      bool
	Quiet    bool
	Services bool
	Status   cli.StringSlice
	Filter   string
	Orphans  bool
	NoTrunc  bool
}

func newPsCmd(a *app) *cli.Command {
	o := &psOptions{}
	return &cli.Command{
		Name:      "ps",
		Usage:     "list the project's containers (and its host services)",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv ps\n   devenv ps -a --format json\n   devenv ps -q postgres",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "include stopped containers", Destination: &o.All},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only container IDs", Destination: &o.Quiet},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json (one compose-style object per line), or a Go template ('table {{.Name}}\t{{.Status}}')", Destination: &o.Format},
			&cli.BoolFlag{Name: "services", Usage: "only the services' names", Destination: &o.Services},
			&cli.StringSliceFlag{Name: "status", Usage: "only containers in this state: created, restarting, running, removing, paused, exited, dead (repeatable)", Destination: &o.Status},
			&cli.StringFlag{Name: "filter", Usage: "status=STATE, as --status", Destination: &o.Filter},
			&cli.BoolFlag{Name: "orphans", Value: true, Usage: "include containers of services the file does not declare (--orphans=false leaves them out)", Destination: &o.Orphans},
			&cli.BoolFlag{Name: "no-trunc", Usage: "full IDs, commands and mount names in --format json and templates", Destination: &o.NoTrunc},
		},
		Action: func(c *cli.Context) error {
			o.Args = c.Args().Slice()
			return runPs(c.Context, a, o)
		},
	}
}

func runPs(ctx context.Context, a *app, o *psOptions) error {
	format, err := composeFormatOf(o.Format)
	if err != nil {
		return err
	}
	p, orch, err := a.readOnlyProject(ctx)
	if err != nil {
		return err
	}
	status, err := psStatus(o.Status.Value(), o.Filter)
	if err != nil {
		return err
	}
	res, err := orch.Ps(ctx, p, orchestrator.PsOptions{Services: o.Args, All: o.All, Status: status, NoOrphans: !o.Orphans})
	if err != nil {
		return err
	}
	if o.Services {
		seen := map[string]bool{}
		for _, ct := range res.Containers {
			if svc := ct.Labels[orchestrator.LabelService]; !seen[svc] {
				seen[svc] = true
				fmt.Fprintln(a.stdout, svc)
			}
		}
		for _, h := range res.Host {
			fmt.Fprintln(a.stdout, h.Service)
		}
		return nil
	}
	if o.Quiet {
		for _, ct := range res.Containers {
			fmt.Fprintln(a.stdout, ct.ID) // IDs only: docker rm $(devenv ps -q) works
		}
		return nil
	}
	if isTemplate(format) {
		var rows []psRow
		for _, ct := range res.Containers {
			row := rowOf(ct, o.NoTrunc)
			row.Engine = res.Engine
			rows = append(rows, row)
		}
		for _, h := range res.Host {
			rows = append(rows, hostRowOf(p.Name(), h))
		}
		return writeTemplate(a.stdout, format, rows)
	}
	if format == "json" {
		return writePsJSON(a.stdout, res, p.Name(), o.NoTrunc)
	}
	return writePsTable(a.stdout, res)
}

// psStatus is --status and --filter status=X, validated.
func psStatus(status []string, filter string) ([]string, error) {
	status = slices.Clone(status)
	if f := filter; f != "" {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != "status" {
			return nil, usagef("ps --filter %q: the filter devenv (like compose) supports is status=STATE", f)
		}
		status = append(status, v)
	}
	for _, s := range status {
		if !slices.Contains(containerStates, s) {
			return nil, usagef("ps: status %q: use one of %s", s, strings.Join(containerStates, ", "))
		}
	}
	return status, nil
}
