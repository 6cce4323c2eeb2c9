package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// healthOptions are health's flags and services.
type healthOptions struct {
	Args   []string
	Format string
}

func newHealthCmd(a *app) *cli.Command {
	o := &healthOptions{}
	return &cli.Command{
		Name:      "health",
		Usage:     "health of containers and host services (exit 0 only when all are healthy)",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv health\n   devenv health --format json postgres backend",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json (one object per line)", Destination: &o.Format}},
		Action: func(c *cli.Context) error {
			o.Args = c.Args().Slice()
			return runHealth(c.Context, a, o)
		},
	}
}

func runHealth(ctx context.Context, a *app, o *healthOptions) error {
	format, err := checkFormat(o.Format, "table", "json")
	if err != nil {
		return err
	}
	p, orch, err := a.projectOrch(ctx)
	if err != nil {
		return err
	}
	rows, err := orch.Health(ctx, p, o.Args)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(a.stdout)
		for _, r := range rows {
			r.Detail = mask(r.Detail, a.secrets)
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	} else {
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		uc := urlCell(slices.ContainsFunc(rows, func(r orchestrator.HealthRow) bool { return r.URL != "" }))
		fmt.Fprintf(tw, "SERVICE\tKIND\tCHECK\tSTATUS\tLATENCY\tDETAIL%s\n", uc.header())
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%dms\t%s%s\n", r.Service, r.Kind, r.Check, r.Status, r.LatencyMS, mask(r.Detail, a.secrets), uc.of(r.URL))
		}
		tw.Flush()
	}
	bad := 0
	for _, r := range rows {
		if r.Status != orchestrator.StatusHealthy {
			bad++
		}
	}
	if bad > 0 {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%d check(s) not healthy", bad)}
	}
	return nil
}
