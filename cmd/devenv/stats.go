package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

// statsOptions are stats' flags and services.
type statsOptions struct {
	Services               []string
	NoStream, All, NoTrunc bool
	Format                 string
}

// newStatsCmd is compose's stats: a sample every second until Ctrl-C, or
// one with --no-stream.
func newStatsCmd(a *app) *cli.Command {
	o := &statsOptions{}
	return &cli.Command{
		Name:      "stats",
		Usage:     "resource use of services' running containers",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv stats --no-stream\n   devenv stats --format json postgres",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stream", Usage: "one sample, then exit", Destination: &o.NoStream},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json, or a Go template", Destination: &o.Format},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "accepted: stopped containers use nothing", Destination: &o.All},
			&cli.BoolFlag{Name: "no-trunc", Usage: "full container IDs", Destination: &o.NoTrunc},
		},
		Action: func(c *cli.Context) error {
			o.Services = c.Args().Slice()
			return runStats(c.Context, a, o)
		},
	}
}

func runStats(ctx context.Context, a *app, o *statsOptions) error {
	format, err := composeFormatOf(o.Format)
	if err != nil {
		return err
	}
	p, orch, err := a.readOnlyProject(ctx)
	if err != nil {
		return err
	}
	for {
		rows, err := orch.Stats(ctx, p, o.Services)
		if err := ctx.Err(); err != nil {
			return err // interrupted: exit 130
		}
		if err != nil {
			return err
		}
		if !o.NoStream && format == "table" && a.stdoutIsTerminal() {
			fmt.Fprint(a.stdout, "\x1b[2J\x1b[H") // a fresh screen, as docker stats does
		}
		if err := writeStats(a.stdout, rows, format, o.NoTrunc); err != nil {
			return err
		}
		if f, ok := a.stdout.(interface{ Flush() error }); ok {
			_ = f.Flush()
		}
		if o.NoStream {
			return nil
		}
		if len(rows) == 0 {
			// Nothing running: a sample a second, not a busy loop.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
}

// statsRow is docker stats --format json's object.
type statsRow struct {
	BlockIO, CPUPerc, Container, ID, MemPerc, MemUsage, Name, NetIO, PIDs string
}

func writeStats(w io.Writer, rows []orchestrator.StatsRow, format string, noTrunc bool) error {
	var out []statsRow
	for _, r := range rows {
		id := r.ID
		if !noTrunc {
			id = id[:min(12, len(id))]
		}
		s := r.Stats
		memPerc := 0.0
		if s.MemLimit > 0 {
			memPerc = float64(s.MemUsage) / float64(s.MemLimit) * 100
		}
		out = append(out, statsRow{
			BlockIO: units.HumanSizeWithPrecision(float64(s.BlockRead), 3) + " / " + units.HumanSizeWithPrecision(float64(s.BlockWrite), 3),
			CPUPerc: fmt.Sprintf("%.2f%%", s.CPUPercent), Container: r.ID, ID: id, MemPerc: fmt.Sprintf("%.2f%%", memPerc),
			MemUsage: units.BytesSize(float64(s.MemUsage)) + " / " + units.BytesSize(float64(s.MemLimit)), Name: r.Name,
			NetIO: units.HumanSizeWithPrecision(float64(s.NetRx), 3) + " / " + units.HumanSizeWithPrecision(float64(s.NetTx), 3),
			PIDs:  strconv.FormatUint(s.PIDs, 10),
		})
	}
	if isTemplate(format) {
		return writeTemplate(w, format, out)
	}
	if format == "json" {
		return writeJSONLines(w, out)
	}
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0) // docker stats' columns
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
	for _, r := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs)
	}
	return tw.Flush()
}
