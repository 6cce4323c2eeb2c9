package main

import (
	"context"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// downOptions are down's flags.
type downOptions struct {
	Volumes, RemoveOrphans, DryRun bool
	RemoveImages                   string
	Timeout                        timeoutOption
}

func newDownCmd(a *app) *cli.Command {
	opts := &downOptions{}
	return &cli.Command{
		Name:      "down",
		Usage:     "stop and remove the project's containers and networks; volumes stay unless -v",
		UsageText: "devenv down        # keeps named volumes and their data\n   devenv down -v     # also removes this project's named volumes\n   devenv -p old-project down   # no compose file needed with -p",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove the project's named volumes (never external ones)", Destination: &opts.Volumes},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "also remove containers of services not in the file", Destination: &opts.RemoveOrphans},
			&cli.StringFlag{Name: "rmi", Usage: `remove images: "all" (the services' images) or "local" (those without image:, which devenv never has)`, Destination: &opts.RemoveImages},
			opts.Timeout.flag(),
			dryRunFlag(&opts.DryRun),
		},
		Action: func(c *cli.Context) error { return runDown(c.Context, a, opts) },
	}
}

func runDown(ctx context.Context, a *app, opts *downOptions) error {
	timeout, err := opts.Timeout.get("down")
	if err != nil {
		return err
	}
	if r := opts.RemoveImages; r != "" && r != "all" && r != "local" {
		return usagef("down --rmi %q: use all or local", r)
	}
	return a.withOrch(ctx, loading{ByName: true}, func(o *orchestrator.Orchestrator, p *project) error {
		do := orchestrator.DownOptions{Timeout: timeout, Volumes: opts.Volumes, RemoveOrphans: opts.RemoveOrphans, RemoveImages: opts.RemoveImages}
		if opts.DryRun || a.dryRun {
			return a.printPlan(o.PlanDown(ctx, p, do))
		}
		return o.Down(ctx, p, do)
	})
}

// timeoutOption is -t/--timeout in seconds, as compose's; unset is the
// services' own stop_grace_period.
type timeoutOption struct {
	Seconds int
	set     bool
}

func (t *timeoutOption) flag() cli.Flag {
	return t.flagUsage("seconds to wait for a container to stop before SIGKILL (default: stop_grace_period or 10)")
}

func (t *timeoutOption) flagUsage(usage string) cli.Flag {
	return &cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: -1, Destination: &t.Seconds, Usage: usage,
		Action: func(*cli.Context, int) error { t.set = true; return nil }}
}

// get is the timeout given, nil when not given.
func (t *timeoutOption) get(command string) (*time.Duration, error) {
	if !t.set {
		return nil, nil
	}
	if t.Seconds < 0 {
		return nil, usagef("%s: --timeout %d: use a number of seconds, 0 or more", command, t.Seconds)
	}
	d := time.Duration(t.Seconds) * time.Second
	return &d, nil
}
