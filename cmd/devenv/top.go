package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

// newTopCmd is compose's top.
func newTopCmd(a *app) *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "the processes running in services' containers",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv top postgres",
		Action:    func(c *cli.Context) error { return runTop(c.Context, a, c.Args().Slice()) },
	}
}

func runTop(ctx context.Context, a *app, services []string) error {
	p, orch, err := a.readOnlyProject(ctx)
	if err != nil {
		return err
	}
	titles, rows, err := orch.Top(ctx, p, services)
	if err != nil || len(rows) == 0 {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\t#\t"+strings.Join(titles, "\t"))
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t1\t%s\n", r.Service, strings.Join(r.Values, "\t"))
	}
	return tw.Flush()
}
