package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/registry"
	"github.com/urfave/cli/v2"
)

func newInstanceCmd(a *app) *cli.Command {
	return &cli.Command{
		Name:        "instance",
		Usage:       "the instances of projects (worktrees, --instance): list them, prune those whose directory is gone",
		UsageText:   "devenv instance ls\n   devenv instance prune\n   devenv instance rename login-form login",
		Subcommands: []*cli.Command{newInstanceLsCmd(a), newInstancePruneCmd(a), newInstanceRenameCmd(a)},
	}
}

// instanceRow is one instance as instance ls shows it.
type instanceRow struct {
	Project   string `json:"project"`
	Instance  string `json:"instance"`
	Name      string `json:"name"`
	Directory string `json:"directory"`
	Gone      bool   `json:"gone"`
	Ports     string `json:"ports"`
	Engine    string `json:"engine,omitempty"`
}

// instances are the registry's instances, by project then instance.
func instances(reg *registry.Registry) []instanceRow {
	var out []instanceRow
	for _, p := range reg.Projects {
		if p.Instance == "" {
			continue
		}
		var ports []string
		for _, r := range p.Reservations {
			ports = append(ports, fmt.Sprint(r.Port))
		}
		_, err := os.Stat(p.Dir)
		out = append(out, instanceRow{Project: strings.TrimSuffix(p.Name, "-"+p.Instance), Instance: p.Instance, Name: p.Name,
			Directory: p.Dir, Gone: os.IsNotExist(err), Ports: strings.Join(ports, ","), Engine: p.RemoteLabel()})
	}
	return out
}

type instanceLsOptions struct{ Format string }

func newInstanceLsCmd(a *app) *cli.Command {
	o := &instanceLsOptions{}
	return &cli.Command{
		Name:      "ls",
		Usage:     "list the instances the registry knows, with their directory and ports",
		UsageText: "devenv instance ls\n   devenv instance ls --format json",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json (one object per line)", Destination: &o.Format}},
		Action: func(c *cli.Context) error {
			format, err := checkFormat(o.Format, "table", "json")
			if err != nil {
				return err
			}
			store, err := a.registryStore()
			if err != nil {
				return err
			}
			reg, err := store.Load()
			if err != nil {
				return err
			}
			rows := instances(reg)
			if format == "json" {
				return writeJSONLines(a.stdout, rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PROJECT\tINSTANCE\tNAME\tDIRECTORY\tPORTS")
			for _, r := range rows {
				dir := r.Directory
				if r.Gone {
					dir += " (gone: devenv instance prune)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Project, r.Instance, r.Name, dir, r.Ports)
			}
			return tw.Flush()
		},
	}
}

type instancePruneOptions struct{ Volumes bool }

func newInstancePruneCmd(a *app) *cli.Command {
	o := &instancePruneOptions{}
	return &cli.Command{
		Name:      "prune",
		Usage:     "down the instances whose directory is gone and release their ports; volumes stay unless --volumes",
		UsageText: "devenv instance prune\n   devenv instance prune --volumes",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "volumes", Usage: "also remove the pruned instances' volumes", Destination: &o.Volumes}},
		Action:    func(c *cli.Context) error { return runInstancePrune(c.Context, a, o) },
	}
}

func runInstancePrune(ctx context.Context, a *app, o *instancePruneOptions) error {
	rep := a.reporter()
	orch, err := a.orch(rep)
	if err != nil {
		rep.Close()
		return err
	}
	reg, err := orch.Registry.Load()
	if err != nil {
		rep.Close()
		return err
	}
	var pruned []string
	for _, r := range instances(reg) {
		if !r.Gone || r.Engine != "" {
			continue // there still, or on a remote engine (prune it there)
		}
		// As docker compose -p NAME down: every container labelled for
		// the instance, whose directory is gone with it.
		if err := orch.Down(ctx, compose.Named(r.Name, r.Directory), orchestrator.DownOptions{Volumes: o.Volumes}); err != nil {
			rep.Close()
			return fmt.Errorf("prune %s: %w", r.Name, err)
		}
		if _, _, err := orch.ReleasePorts(ctx, r.Name, ""); err != nil {
			rep.Close()
			return err
		}
		pruned = append(pruned, r.Name)
	}
	rep.Close()
	if len(pruned) == 0 {
		fmt.Fprintln(a.stderr, "no instance's directory is gone")
		return nil
	}
	for _, n := range pruned {
		fmt.Fprintf(a.stdout, "pruned %s\n", n)
	}
	return nil
}

func newInstanceRenameCmd(a *app) *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "rename a stopped instance: its volumes are copied into the new one's (the old ones stay), its containers are made again by the next up",
		ArgsUsage: "OLD NEW",
		UsageText: "devenv instance rename login-form login",
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("instance rename: need OLD and NEW")
			}
			return runInstanceRename(c.Context, a, c.Args().Get(0), c.Args().Get(1))
		},
	}
}

func runInstanceRename(ctx context.Context, a *app, from, to string) error {
	a.globals.Instance = from // this checkout, as instance OLD
	p, err := a.project(ctx)
	if err != nil {
		return err
	}
	rep := a.reporter()
	orch, err := a.orch(rep)
	if err != nil {
		rep.Close()
		return err
	}
	kept, err := orch.RenameInstance(ctx, p, to)
	rep.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "renamed %s to %s; devenv up starts it under its new name\n", p.Name(), strings.TrimSuffix(p.Name(), "-"+p.Instance)+"-"+compose.InstanceName(to))
	if len(kept) > 0 {
		fmt.Fprintf(a.stdout, "the old volumes stay, their data copied: %s (docker volume rm them once you are sure)\n", strings.Join(kept, ", "))
	}
	return nil
}

// instance is the instance asked for: --instance, else DEVENV_INSTANCE
// ("" lets a linked git worktree decide).
func (a *app) instance() string {
	if a.globals.Instance != "" {
		return a.globals.Instance
	}
	return a.env.get("DEVENV_INSTANCE")
}

// instanceOf is the instance name a worktree found by itself must take
// instead of its directory's: the one the registry remembers for its
// directory, else, when another directory's instance has the name, the
// name with a short suffix of its own path. "" keeps the name.
func (a *app) instanceOf(p *compose.Project) string {
	if p.Instance == "" || a.instance() != "" {
		return "" // none, or named by hand
	}
	store, err := a.registryStore()
	if err != nil {
		return ""
	}
	reg, err := store.Load()
	if err != nil {
		return ""
	}
	for _, rp := range reg.Projects {
		if rp.Instance != "" && rp.Dir == p.Dir() {
			if rp.Instance != p.Instance {
				return rp.Instance
			}
			return ""
		}
	}
	for _, rp := range reg.Projects {
		if rp.Name == p.Name() && rp.Dir != p.Dir() {
			sum := sha256.Sum256([]byte(p.Dir()))
			return p.Instance + "-" + hex.EncodeToString(sum[:2])
		}
	}
	return ""
}
