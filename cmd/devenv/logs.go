package main

import (
	"context"
	"strconv"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// logsOptions are logs' flags and services.
type logsOptions struct {
	Args        []string
	Follow      bool
	Tail        string
	NoLogPrefix bool
	Timestamps  bool
	Since       string
	Until       string
	NoColor     bool
	Index       int
}

func newLogsCmd(a *app) *cli.Command {
	o := &logsOptions{}
	return &cli.Command{
		Name:      "logs",
		Usage:     "show container logs, prefixed with the container name",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv logs --tail 50 postgres\n   devenv logs -f",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output", Destination: &o.Follow},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines from the end, or all", Destination: &o.Tail},
			&cli.BoolFlag{Name: "no-log-prefix", Usage: "do not prefix lines with the container name", Destination: &o.NoLogPrefix},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show the engine's timestamps (containers)", Destination: &o.Timestamps},
			&cli.StringFlag{Name: "since", Usage: "lines since a time (2013-01-02T13:23:37Z) or a duration before now (42m)", Destination: &o.Since},
			&cli.StringFlag{Name: "until", Usage: "lines before a time or a duration before now", Destination: &o.Until},
			&cli.BoolFlag{Name: "no-color", Usage: "accepted: devenv prints logs without colour", Destination: &o.NoColor},
			&cli.IntFlag{Name: "index", Value: 1, Usage: "container index; devenv runs one container per service", Destination: &o.Index},
		},
		Action: func(c *cli.Context) error {
			o.Args = c.Args().Slice()
			return runLogs(c.Context, a, o)
		},
	}
}

func runLogs(ctx context.Context, a *app, o *logsOptions) error {
	tail := o.Tail
	if tail != "all" {
		if n, err := strconv.Atoi(tail); err != nil || n < 0 {
			return usagef("--tail %q: use a number or all", tail)
		}
	}
	if o.Index != 1 {
		return usagef("logs --index %d: devenv runs one container per service (index 1)", o.Index)
	}
	for _, t := range [][2]string{{"since", o.Since}, {"until", o.Until}} {
		if name, v := t[0], t[1]; v != "" && !validLogTime(v) {
			return usagef("logs --%s %q: use a time (2013-01-02T13:23:37Z), a Unix timestamp, or a duration such as 42m", name, v)
		}
	}
	p, orch, err := a.readOnlyProject(ctx)
	if err != nil {
		return err
	}
	if f, ok := a.stdout.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	err = orch.Logs(ctx, p, orchestrator.LogsOptions{Services: o.Args, Follow: o.Follow, Tail: tail, NoPrefix: o.NoLogPrefix,
		Timestamps: o.Timestamps, Since: o.Since, Until: o.Until}, a.rawStdout)
	if o.Follow && ctx.Err() != nil {
		return nil
	}
	return err
}

// validLogTime accepts what the engine takes for --since/--until.
func validLogTime(v string) bool {
	if _, err := time.ParseDuration(v); err == nil {
		return true
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}
