package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

func healthCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "health",
		Usage:     "health of containers and host services (exit 0 only when all are healthy)",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv health\n   devenv health --format json postgres backend",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json (one object per line)"}},
		Action: func(c *cli.Context) error {
			format, err := formatFlag(c, "table", "json")
			if err != nil {
				return err
			}
			p, o, err := a.projectOrch(c.Context)
			if err != nil {
				return err
			}
			rows, err := o.Health(c.Context, p, c.Args().Slice())
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
				fmt.Fprintln(tw, "SERVICE\tKIND\tCHECK\tSTATUS\tLATENCY\tDETAIL")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%dms\t%s\n", r.Service, r.Kind, r.Check, r.Status, r.LatencyMS, mask(r.Detail, a.secrets))
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
		},
	}
}

func envCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "env",
		Usage:     "write the env files declared in x-devenv.env_files with the assigned ports",
		UsageText: "devenv env                   # write frontend/.env etc.\n   devenv env --check           # print drift, exit 1 if any, change nothing\n   eval \"$(devenv env --format shell)\"",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "report drift and exit 1 if any; change nothing"},
			&cli.StringFlag{Name: "format", Usage: "print instead of writing: dotenv, json or shell"},
		},
		Action: func(c *cli.Context) error {
			p, err := a.project(c.Context)
			if err != nil {
				return err
			}
			if len(p.X.EnvFiles) == 0 {
				return &compose.ConfigError{File: p.MainFile(), Key: "x-devenv.env_files", Msg: "no env files are declared"}
			}
			rep := a.reporter()
			defer rep.Close()
			o, err := a.orch(rep)
			if err != nil {
				return err
			}
			if f := c.String("format"); f != "" {
				if f != "dotenv" && f != "json" && f != "shell" {
					return usagef("--format %q: use dotenv, json or shell", f)
				}
				files, err := o.EnvFiles(c.Context, p)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(a.stdout)
				for _, ef := range files {
					for _, kv := range ef.Vars {
						switch f {
						case "dotenv":
							fmt.Fprintf(a.stdout, "%s=%s\n", kv[0], kv[1])
						case "shell":
							fmt.Fprintf(a.stdout, "export %s='%s'\n", kv[0], strings.ReplaceAll(kv[1], "'", `'\''`))
						case "json":
							_ = enc.Encode(map[string]string{"file": ef.Path, "key": kv[0], "value": kv[1]})
						}
					}
				}
				return nil
			}
			if c.Bool("check") {
				files, err := o.EnvFiles(c.Context, p)
				if err != nil {
					return err
				}
				n := 0
				for _, ef := range files {
					for _, d := range ef.Drift {
						fmt.Fprintln(a.stdout, d)
						n++
					}
				}
				if n > 0 {
					return &exitError{code: exitFailed, msg: "env files are out of date; run devenv env"}
				}
				return nil
			}
			_, err = o.WriteEnvFiles(c.Context, p)
			return err
		},
	}
}

func doctorCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "check the engine, the registry, port conflicts, exposed databases and data-loss risks",
		UsageText: "devenv doctor\n   devenv doctor --format json",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"}},
		Action: func(c *cli.Context) error {
			format, err := formatFlag(c, "table", "json")
			if err != nil {
				return err
			}
			p, perr := a.project(c.Context)
			if perr != nil {
				if !errors.Is(perr, compose.ErrNoFile) || len(a.files) > 0 {
					// A broken compose file is a finding, not a skip.
					if _, ok := perr.(*compose.ConfigError); !ok {
						return perr
					}
				}
				p = nil // machine-wide checks only
			}
			o, err := a.orch(orchestrator.Discard{})
			if err != nil {
				return err
			}
			info, engErr := o.Engine.Info(c.Context)
			findings := o.Doctor(c.Context, p, info, engErr)
			if perr != nil && !errors.Is(perr, compose.ErrNoFile) {
				findings = append(findings, orchestrator.Finding{Level: "error", Check: "project", Message: perr.Error(), Fix: "fix the file at the place the message names"})
			}
			errs := 0
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			enc := json.NewEncoder(a.stdout)
			for _, f := range findings {
				f.Message = mask(f.Message, a.secrets)
				if f.Level == "error" {
					errs++
				}
				if format == "json" {
					_ = enc.Encode(f)
					continue
				}
				line := fmt.Sprintf("%s\t%s\t%s", strings.ToUpper(f.Level), f.Check, f.Message)
				if f.Fix != "" {
					line += "\n\t\t  fix: " + f.Fix
				}
				fmt.Fprintln(tw, line)
			}
			tw.Flush()
			if errs > 0 {
				return &exitError{code: exitFailed, msg: fmt.Sprintf("doctor found %d error(s)", errs)}
			}
			return nil
		},
	}
}

func lsCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list every project known to the registry or running on the engine",
		UsageText: "devenv ls\n   devenv ls --format json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json (one array, with docker compose ls's keys Name, Status, ConfigFiles and devenv's)"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "accepted: devenv ls always lists stopped projects too"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print project names only"},
			&cli.StringSliceFlag{Name: "filter", Usage: "name=NAME: projects whose name matches NAME (a regular expression, as docker's filters)"},
		},
		Action: func(c *cli.Context) error {
			format, err := formatFlag(c, "table", "json")
			if err != nil {
				return err
			}
			var names []*regexp.Regexp
			for _, f := range c.StringSlice("filter") {
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
			o, err := a.orch(orchestrator.Discard{})
			if err != nil {
				return err
			}
			all, err := o.Ls(c.Context)
			if err != nil && !a.noteNotAsked(err) {
				return err
			}
			var rows []orchestrator.ProjectRow
			for _, r := range all {
				if len(names) == 0 || slices.ContainsFunc(names, func(re *regexp.Regexp) bool { return re.MatchString(r.Name) }) {
					rows = append(rows, r)
				}
			}
			if c.Bool("quiet") {
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
			fmt.Fprintf(tw, "NAME\t%sSTATUS\tDIRECTORY\tPORTS\n", col.header())
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s\n", r.Name, col.of(r.Engine), r.Status, r.Directory, r.Ports)
			}
			return tw.Flush()
		},
	}
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
