package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/urfave/cli/v2"
)

// envOptions are env's flags.
type envOptions struct {
	Args   []string
	Check  bool
	Format string
}

func newEnvCmd(a *app) *cli.Command {
	o := &envOptions{}
	return &cli.Command{
		Name:      "env",
		Usage:     "write the env files declared in x-devenv.env_files with the assigned ports",
		UsageText: "devenv env                   # write frontend/.env etc.\n   devenv env --check           # print drift, exit 1 if any, change nothing\n   eval \"$(devenv env --format shell)\"",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "report drift and exit 1 if any; change nothing", Destination: &o.Check},
			&cli.StringFlag{Name: "format", Usage: "print instead of writing: dotenv, json or shell", Destination: &o.Format},
		},
		Action: func(c *cli.Context) error {
			o.Args = c.Args().Slice()
			return runEnvFiles(c.Context, a, o)
		},
	}
}

func runEnvFiles(ctx context.Context, a *app, o *envOptions) error {
	p, err := a.project(ctx)
	if err != nil {
		return err
	}
	if len(p.X.EnvFiles) == 0 {
		return &compose.ConfigError{File: p.MainFile(), Key: "x-devenv.env_files", Msg: "no env files are declared"}
	}
	rep := a.reporter()
	defer rep.Close()
	orch, err := a.orch(rep)
	if err != nil {
		return err
	}
	if f := o.Format; f != "" {
		if f != "dotenv" && f != "json" && f != "shell" {
			return usagef("--format %q: use dotenv, json or shell", f)
		}
		files, err := orch.EnvFiles(ctx, p)
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
	if o.Check {
		files, err := orch.EnvFiles(ctx, p)
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
	_, err = orch.WriteEnvFiles(ctx, p)
	return err
}
