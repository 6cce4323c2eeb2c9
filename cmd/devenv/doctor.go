package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// doctorOptions are doctor's flags.
type doctorOptions struct {
	Args   []string
	Format string
}

func newDoctorCmd(a *app) *cli.Command {
	o := &doctorOptions{}
	return &cli.Command{
		Name:      "doctor",
		Usage:     "check the engine, the registry, port conflicts, exposed databases and data-loss risks",
		UsageText: "devenv doctor\n   devenv doctor --format json",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json", Destination: &o.Format}},
		Action: func(c *cli.Context) error {
			o.Args = c.Args().Slice()
			return runDoctor(c.Context, a, o)
		},
	}
}

func runDoctor(ctx context.Context, a *app, o *doctorOptions) error {
	format, err := checkFormat(o.Format, "table", "json")
	if err != nil {
		return err
	}
	p, perr := a.project(ctx)
	if perr != nil {
		if !errors.Is(perr, compose.ErrNoFile) || len(a.files) > 0 {
			// A broken compose file is a finding, not a skip.
			if _, ok := perr.(*compose.ConfigError); !ok {
				return perr
			}
		}
		p = nil // machine-wide checks only
	}
	orch, err := a.orch(orchestrator.Discard{})
	if err != nil {
		return err
	}
	info, engErr := orch.Engine.Info(ctx)
	findings := orch.Doctor(ctx, p, info, engErr)
	findings = append(findings, a.proxyFindings(ctx)...)
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
}
