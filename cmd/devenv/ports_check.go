package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

// portsCheckOptions are ports check's flags.
type portsCheckOptions struct{ Format string }

func newPortsCheckCmd(a *app) *cli.Command {
	o := &portsCheckOptions{}
	return &cli.Command{
		Name:      "check",
		Usage:     "check all projects: no port claimed twice, no claimed port held by anything else (exit 3 on conflict)",
		UsageText: "devenv ports check",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json", Destination: &o.Format}},
		Action:    func(c *cli.Context) error { return runPortsCheck(c.Context, a, o) },
	}
}

func runPortsCheck(ctx context.Context, a *app, o *portsCheckOptions) error {
	format, err := checkFormat(o.Format, "table", "json")
	if err != nil {
		return err
	}
	orch, err := a.portsOrch()
	if err != nil {
		return err
	}
	conflicts, err := orch.CheckPorts(ctx)
	notAsked := err
	if err != nil && !a.noteNotAsked(err) {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(a.stdout)
		for _, cf := range conflicts {
			if err := enc.Encode(cf); err != nil {
				return err
			}
		}
	} else if len(conflicts) > 0 {
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PORT\tCLAIMED BY\tHELD BY")
		for _, cf := range conflicts {
			claims, holders := "", ""
			for i, h := range cf.Claims {
				if i > 0 {
					claims += "; "
				}
				claims += h.Project + "/" + h.Service
			}
			for i, h := range cf.Holders {
				if i > 0 {
					holders += "; "
				}
				holders += h.String()
			}
			if holders == "" {
				holders = "(claimed twice)"
			}
			fmt.Fprintf(tw, "%d/%s\t%s\t%s\n", cf.Port, cf.Protocol, claims, holders)
		}
		tw.Flush()
	} else if notAsked != nil {
		fmt.Fprintln(a.stdout, "no port conflicts in the registry and on this machine's sockets (containers not checked)")
	} else {
		fmt.Fprintln(a.stdout, "no port conflicts")
	}
	if len(conflicts) > 0 {
		return &exitError{code: exitConflict, msg: fmt.Sprintf("%d port conflict(s)", len(conflicts))}
	}
	if notAsked != nil {
		// What it could check is fine; the rest needs the engine.
		return &exitError{code: exitEngine}
	}
	return nil
}
