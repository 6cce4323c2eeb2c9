package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// verbCommands are compose's kill, pause, unpause and rm.
func verbCommands(a *app) []*cli.Command {
	return []*cli.Command{
		{
			Name:      "kill",
			Usage:     "send a signal (default SIGKILL) to services' running containers and host services",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv kill electric\n   devenv kill -s SIGHUP backend",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "SIGKILL", Usage: "signal to send: a name (SIGHUP, HUP) or number"},
				&cli.BoolFlag{Name: "remove-orphans", Usage: "also signal containers of services not in the file"},
			},
			Action: func(c *cli.Context) error {
				sig, err := signalName(c.String("signal"))
				if err != nil {
					return err
				}
				a.nameOnly = true
				return a.withOrch(c, func(o *orchestrator.Orchestrator) error {
					return o.Kill(c.Context, a.proj, orchestrator.KillOptions{Services: c.Args().Slice(), Signal: sig, RemoveOrphans: c.Bool("remove-orphans")})
				})
			},
		},
		{
			Name:      "pause",
			Usage:     "pause services' running containers",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv pause electric",
			Action: func(c *cli.Context) error {
				return a.withOrch(c, func(o *orchestrator.Orchestrator) error { return o.Pause(c.Context, a.proj, c.Args().Slice(), true) })
			},
		},
		{
			Name:      "unpause",
			Usage:     "unpause services' paused containers",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv unpause electric",
			Action: func(c *cli.Context) error {
				return a.withOrch(c, func(o *orchestrator.Orchestrator) error { return o.Pause(c.Context, a.proj, c.Args().Slice(), false) })
			},
		},
		{
			Name:      "rm",
			Usage:     "remove services' stopped containers (named volumes always stay)",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv rm -f electric\n   devenv rm -s -f redis   # stop it first",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "accepted: devenv does not ask (it lists what it removed)"},
				&cli.BoolFlag{Name: "stop", Aliases: []string{"s"}, Usage: "stop the containers first"},
				&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove the containers' anonymous volumes too"},
			},
			Action: func(c *cli.Context) error {
				a.nameOnly = true
				return a.withOrch(c, func(o *orchestrator.Orchestrator) error {
					removed, err := o.Rm(c.Context, a.proj, orchestrator.RmOptions{Services: c.Args().Slice(), Stop: c.Bool("stop"), Volumes: c.Bool("volumes")})
					if err == nil && len(removed) == 0 {
						fmt.Fprintln(a.stderr, "No stopped containers")
					}
					return err
				})
			},
		},
	}
}

var signalNames = []string{"SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGSTOP", "SIGCONT", "SIGWINCH"}

// signalName takes SIGHUP, HUP or a number, as docker does; numbers go to
// the engine as they are.
func signalName(s string) (string, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return s, nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	for _, known := range signalNames {
		if name == known {
			return name, nil
		}
	}
	return "", usagef("--signal %q: use a signal name such as SIGHUP or a number", s)
}
