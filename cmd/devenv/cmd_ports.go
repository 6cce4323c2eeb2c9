package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

func portsCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "ports",
		Usage:     "the cross-project port map: every project, service, role, host port and who holds it now",
		UsageText: "devenv ports\n   devenv ports --format markdown\n   devenv ports check\n   devenv ports assign --reassign postgres\n   devenv ports release old-project\n   devenv ports why 5432",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json (one object per line) or markdown"},
		},
		Action: func(c *cli.Context) error {
			format, err := formatFlag(c, "table", "json", "markdown")
			if err != nil {
				return err
			}
			o, err := a.portsOrch()
			if err != nil {
				return err
			}
			rows, reg, err := o.PortMap(c.Context, format != "markdown")
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
			fmt.Fprintf(tw, "PROJECT\t%sSERVICE\tROLE\tHOST PORT\tTARGET\tHOLDER\n", col.header())
			for _, r := range rows {
				svc := r.Service
				if r.HostService {
					svc += " (host)"
				}
				fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s:%d/%s\t%d\t%s\n", r.Project, col.of(r.Engine), svc, r.Role, r.HostIP, r.Port, r.Protocol, r.Target, r.Holder)
			}
			return tw.Flush()
		},
		Subcommands: []*cli.Command{portsCheckCommand(a), portsAssignCommand(a), portsReleaseCommand(a), portsWhyCommand(a)},
	}
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

func filterHost[V any](host map[string]V, names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := host[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// portsCheckCommand is `ports check`.
func portsCheckCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "check all projects: no port claimed twice, no claimed port held by anything else (exit 3 on conflict)",
		UsageText: "devenv ports check",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"}},
		Action: func(c *cli.Context) error {
			format, err := formatFlag(c, "table", "json")
			if err != nil {
				return err
			}
			o, err := a.portsOrch()
			if err != nil {
				return err
			}
			conflicts, err := o.CheckPorts(c.Context)
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
		},
	}
}

// portsAssignCommand is `ports assign`.
func portsAssignCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "assign",
		Usage:     "reserve this project's ports by the allocation rules",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv ports assign\n   devenv ports assign --reassign postgres   # next free port of its rule",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "reassign", Usage: "move the named services (all without names) by the rules again"},
			&cli.BoolFlag{Name: "strict-ports", Usage: "fail instead of moving a taken requested port"},
			&cli.BoolFlag{Name: "adopt", Usage: "keep the ports of a project whose directory moved here"},
		},
		Action: func(c *cli.Context) error {
			p, err := a.project(c.Context)
			if err != nil {
				return err
			}
			if _, err := p.SelectServices(filterHost(p.X.Host, c.Args().Slice())); err != nil {
				return err
			}
			o, err := a.portsOrch()
			if err != nil {
				return err
			}
			res, err := o.ReconcilePorts(c.Context, p, orchestrator.PortOptions{Reassign: c.Bool("reassign"), Only: c.Args().Slice(), Strict: c.Bool("strict-ports"), Adopt: c.Bool("adopt")})
			if err != nil {
				return err
			}
			for _, m := range res.Remaps {
				fmt.Fprintln(a.stderr, m.String())
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tROLE\tTARGET\tHOST PORT")
			for _, r := range res.Project.Reservations {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d/%s\n", r.Service, r.Role, r.Target, r.Port, r.Protocol)
			}
			return tw.Flush()
		},
	}
}

// portsReleaseCommand is `ports release`.
func portsReleaseCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "release",
		Usage:     "drop a project's reservations (this project without a name)",
		ArgsUsage: "[PROJECT]",
		UsageText: "devenv ports release\n   devenv ports release sertantai-auth\n   devenv ports release --engine tcp://build-box:2376 sertantai-auth",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "engine", Usage: "the project's engine: local, an engine's address or its ID (default: the engine devenv uses now)"},
		},
		Action: func(c *cli.Context) error {
			name := c.Args().First()
			if name == "" {
				p, err := a.project(c.Context)
				if err != nil {
					return err
				}
				name = p.Name()
			}
			o, err := a.portsOrch()
			if err != nil {
				return err
			}
			found, elsewhere, err := o.ReleasePorts(c.Context, name, c.String("engine"))
			if err != nil {
				return err
			}
			if !found && len(elsewhere) > 0 {
				return usagef("project %q has no reservations on this engine; it is registered on %s: name one with --engine", name, strings.Join(elsewhere, ", "))
			}
			if !found {
				return usagef("project %q has no reservations on that engine in %s", name, a.store.Path)
			}
			fmt.Fprintf(a.stderr, "released the ports of %s\n", name)
			return nil
		},
	}
}

// portsWhyCommand is `ports why`.
func portsWhyCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "why",
		Usage:     "who holds PORT: a registry project, a container, or a host process",
		ArgsUsage: "PORT",
		UsageText: "devenv ports why 5432",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"}},
		Action: func(c *cli.Context) error {
			format, err := formatFlag(c, "table", "json")
			if err != nil {
				return err
			}
			port, err := strconv.Atoi(c.Args().First())
			if err != nil || port < 1 || port > 65535 || c.NArg() != 1 {
				return usagef("ports why: need one port number 1-65535")
			}
			o, err := a.portsOrch()
			if err != nil {
				return err
			}
			holders, err := o.Why(c.Context, port)
			notAsked := err
			if err != nil && !a.noteNotAsked(err) {
				return err
			}
			if format == "json" {
				if err := writeJSONLines(a.stdout, holders); err != nil {
					return err
				}
				if len(holders) == 0 && notAsked != nil {
					return &exitError{code: exitEngine}
				}
				return nil
			}
			if len(holders) == 0 && notAsked != nil {
				// Free as far as it could tell: the containers decide.
				fmt.Fprintf(a.stdout, "%d: no reservation, no listening process here (containers not checked)\n", port)
				return &exitError{code: exitEngine}
			}
			if len(holders) == 0 {
				fmt.Fprintf(a.stdout, "%d is free: no reservation, no container, no listening process\n", port)
				return nil
			}
			for _, h := range holders {
				fmt.Fprintf(a.stdout, "%d: %s\n", port, h)
			}
			return nil
		},
	}
}
