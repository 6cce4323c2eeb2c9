package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// killOptions are kill's flags and services.
type killOptions struct {
	Services              []string
	Signal                string
	RemoveOrphans, DryRun bool
}

func newKillCmd(a *app) *cli.Command {
	opts := &killOptions{}
	return &cli.Command{
		Name:      "kill",
		Usage:     "send a signal (default SIGKILL) to services' running containers and host services",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv kill electric\n   devenv kill -s SIGHUP backend",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "SIGKILL", Usage: "signal to send: a name (SIGHUP, HUP) or number", Destination: &opts.Signal},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "also signal containers of services not in the file", Destination: &opts.RemoveOrphans},
			dryRunFlag(&opts.DryRun),
		},
		Action: func(c *cli.Context) error {
			opts.Services = c.Args().Slice()
			return runKill(c.Context, a, opts)
		},
	}
}

func runKill(ctx context.Context, a *app, opts *killOptions) error {
	sig, err := signalName(opts.Signal)
	if err != nil {
		return err
	}
	return a.withOrch(ctx, loading{ByName: true}, func(o *orchestrator.Orchestrator, p *project) error {
		ko := orchestrator.KillOptions{Services: opts.Services, Signal: sig, RemoveOrphans: opts.RemoveOrphans}
		if opts.DryRun || a.dryRun {
			return a.printPlan(o.PlanKill(ctx, p, ko))
		}
		return o.Kill(ctx, p, ko)
	})
}

var signalPattern = regexp.MustCompile(`^SIG[A-Z0-9]+([+-][0-9]+)?$`)

// signalName takes SIGHUP, HUP or a number, as docker does; the engine
// (or, for host services, the system) says whether it knows the signal.
func signalName(s string) (string, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return s, nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if !signalPattern.MatchString(name) {
		return "", usagef("--signal %q: use a signal name such as SIGHUP or a number", s)
	}
	return name, nil
}
