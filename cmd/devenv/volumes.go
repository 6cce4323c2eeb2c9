package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// newVolumesCmd is compose's volumes.
func newVolumesCmd(a *app) *cli.Command {
	o := &listingOptions{}
	return &cli.Command{
		Name: "volumes", Usage: "the project's volumes", ArgsUsage: "[SERVICE...]",
		UsageText: "devenv volumes\n   devenv volumes -q postgres",
		Flags:     o.flags("only volume names"),
		Action: func(c *cli.Context) error {
			o.Services = c.Args().Slice()
			return runVolumes(c.Context, a, o)
		},
	}
}

func runVolumes(ctx context.Context, a *app, o *listingOptions) error {
	return runListing(ctx, a, o, (*orchestrator.Orchestrator).ProjectVolumes, writeVolumes)
}

// volumeRow is compose's volumes --format json object.
type volumeRow struct {
	Availability, Driver, Group, Labels, Links, Mountpoint, Name, Scope, Size, Status string
}

func writeVolumes(w io.Writer, vols []orchestrator.Volume, format string, quiet bool) error {
	var rows []volumeRow
	for _, v := range vols {
		var labels []string
		for k, val := range v.Labels {
			labels = append(labels, k+"="+val)
		}
		sort.Strings(labels)
		rows = append(rows, volumeRow{Availability: "N/A", Driver: v.Driver, Group: "N/A", Labels: strings.Join(labels, ","), Links: "N/A",
			Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, Size: "N/A", Status: "N/A"})
	}
	switch {
	case quiet:
		for _, v := range vols {
			fmt.Fprintln(w, v.Name)
		}
		return nil
	case isTemplate(format):
		return writeTemplate(w, format, rows)
	case format == "json":
		return writeJSONLines(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 4, ' ', 0)
	fmt.Fprintln(tw, "DRIVER\tVOLUME NAME")
	for _, v := range vols {
		fmt.Fprintf(tw, "%s\t%s\n", v.Driver, v.Name)
	}
	return tw.Flush()
}
