package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// lsOptions are ls's flags.
type lsOptions struct {
	All, Quiet bool
	Args       []string
	Format     string
	Filter     cli.StringSlice
}

func newLsCmd(a *app) *cli.Command {
	o := &lsOptions{}
	return &cli.Command{
		Name:      "ls",
		Usage:     "list every project known to the registry or running on the engine",
		UsageText: "devenv ls\n   devenv ls --format json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json (one array, with docker compose ls's keys Name, Status, ConfigFiles and devenv's)", Destination: &o.Format},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "accepted: devenv ls always lists stopped projects too", Destination: &o.All},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print project names only", Destination: &o.Quiet},
			&cli.StringSliceFlag{Name: "filter", Usage: "name=NAME: projects whose name matches NAME (a regular expression, as docker's filters)", Destination: &o.Filter},
		},
		Action: func(c *cli.Context) error {
			o.Args = c.Args().Slice()
			return runLs(c.Context, a, o)
		},
	}
}

func runLs(ctx context.Context, a *app, o *lsOptions) error {
	format, err := checkFormat(o.Format, "table", "json")
	if err != nil {
		return err
	}
	var names []*regexp.Regexp
	for _, f := range o.Filter.Value() {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != "name" {
			return usagef("ls: --filter %q: devenv filters by name=NAME", f)
		}
		// As docker's filters: the name itself, or a regular expression.
		re, err := regexp.Compile(v)
		if err != nil {
			re = regexp.MustCompile("^" + regexp.QuoteMeta(v) + "$")
		}
		names = append(names, re)
	}
	orch, err := a.orch(orchestrator.Discard{})
	if err != nil {
		return err
	}
	all, err := orch.Ls(ctx)
	if err != nil && !a.noteNotAsked(err) {
		return err
	}
	var rows []orchestrator.ProjectRow
	for _, r := range all {
		if len(names) == 0 || slices.ContainsFunc(names, func(re *regexp.Regexp) bool { return re.MatchString(r.Name) }) {
			rows = append(rows, r)
		}
	}
	if o.Quiet {
		for _, r := range rows {
			fmt.Fprintln(a.stdout, r.Name)
		}
		return nil
	}
	if format == "json" {
		// One array, as docker compose ls --format json prints it.
		if rows == nil {
			rows = []orchestrator.ProjectRow{}
		}
		return json.NewEncoder(a.stdout).Encode(rows)
	}
	// An ENGINE column once projects are on more than one engine.
	engines := map[string]bool{}
	for _, r := range rows {
		engines[r.Engine] = true
	}
	col := engineCell(len(engines) > 1)
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	uc := urlCell(slices.ContainsFunc(rows, func(r orchestrator.ProjectRow) bool { return r.URL != "" }))
	fmt.Fprintf(tw, "NAME\t%sSTATUS\tDIRECTORY\tPORTS%s\n", col.header(), uc.header())
	for _, r := range rows {
		name := r.Name
		if r.Instance != "" {
			name = "└ " + name // an instance, under its project
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s%s\n", name, col.of(r.Engine), r.Status, r.Directory, r.Ports, uc.of(r.URL))
	}
	return tw.Flush()
}

// engineCell is an optional ENGINE column of a table: when shown, a cell
// and its tab ("local" for this machine's engine); else nothing.
type engineCell bool

func (show engineCell) header() string { return show.cell("ENGINE") }

func (show engineCell) of(engine string) string {
	if engine == "" {
		engine = "local"
	}
	return show.cell(engine)
}

func (show engineCell) cell(s string) string {
	if !show {
		return ""
	}
	return s + "\t"
}
