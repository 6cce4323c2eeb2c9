package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// portsOptions are the port map's flags.
type portsOptions struct{ Format string }

func newPortsCmd(a *app) *cli.Command {
	o := &portsOptions{}
	return &cli.Command{
		Name:      "ports",
		Usage:     "the cross-project port map: every project, service, role, host port and who holds it now",
		UsageText: "devenv ports\n   devenv ports --format markdown\n   devenv ports check\n   devenv ports assign --reassign postgres\n   devenv ports release old-project\n   devenv ports why 5432",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json (one object per line) or markdown", Destination: &o.Format},
		},
		Action:      func(c *cli.Context) error { return runPorts(c.Context, a, o) },
		Subcommands: []*cli.Command{newPortsCheckCmd(a), newPortsAssignCmd(a), newPortsReleaseCmd(a), newPortsWhyCmd(a)},
	}
}

func runPorts(ctx context.Context, a *app, o *portsOptions) error {
	format, err := checkFormat(o.Format, "table", "json", "markdown")
	if err != nil {
		return err
	}
	orch, err := a.portsOrch()
	if err != nil {
		return err
	}
	rows, reg, err := orch.PortMap(ctx, format != "markdown")
	if err != nil && !a.noteNotAsked(err) {
		return err
	}
	switch format {
	case "markdown":
		return writeMarkdown(a.stdout, reg)
	case "json":
		return writeJSONLines(a.stdout, rows)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	col := engineCell(reg.Engines() > 1)
	uc := urlCell(slices.ContainsFunc(rows, func(r orchestrator.PortRow) bool { return r.URL != "" }))
	fmt.Fprintf(tw, "PROJECT\t%sSERVICE\tROLE\tHOST PORT\tTARGET\tHOLDER%s\n", col.header(), uc.header())
	for _, r := range rows {
		svc := r.Service
		if r.HostService {
			svc += " (host)"
		}
		project := r.Project
		if r.Instance != "" {
			project += " (instance " + r.Instance + ")"
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s:%d/%s\t%d\t%s%s\n", project, col.of(r.Engine), svc, r.Role, r.HostIP, r.Port, r.Protocol, r.Target, r.Holder, uc.of(r.URL))
	}
	return tw.Flush()
}

// portsOrch is the orchestrator for port commands (no progress).
func (a *app) portsOrch() (*orchestrator.Orchestrator, error) {
	return a.orch(orchestrator.Discard{})
}

// noteNotAsked says on stderr what an answer given without the engine
// could not check, and whether err is such an answer.
func (a *app) noteNotAsked(err error) bool {
	var na *orchestrator.EngineNotAskedError
	if !errors.As(err, &na) {
		return false
	}
	fmt.Fprintf(a.stderr, "devenv: note: %v\n", na)
	return true
}
