package main

import (
	"strconv"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

func lifecycleCommands(a *app) []*cli.Command {
	timeoutFlag := &cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "seconds to wait for a container to stop before SIGKILL (default: stop_grace_period or 10)", Value: -1}
	return []*cli.Command{
		{
			Name:      "up",
			Usage:     "reconcile ports, create or recreate what changed, start in dependency order and wait until healthy",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv up                      # the whole stack, waits until healthy\n   devenv up postgres redis       # these services and their dependencies\n   devenv up --strict-ports       # fail instead of moving a taken port",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "accepted for docker compose's hands: devenv's up always returns once the stack is healthy, leaving it running"},
				&cli.BoolFlag{Name: "wait", Usage: "accepted for docker compose's hands: devenv's up waits for health unless --no-wait"},
				&cli.BoolFlag{Name: "no-wait", Usage: "return once containers are started"},
				&cli.StringFlag{Name: "wait-timeout", Value: "120", Usage: "how long to wait for health: seconds as in compose (120), or a duration (2m)"},
				&cli.BoolFlag{Name: "force-recreate", Usage: "recreate containers even if unchanged"},
				&cli.BoolFlag{Name: "no-deps", Usage: "do not start linked services"},
				&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers of services not in the file"},
				&cli.StringFlag{Name: "pull", Usage: "pull images: always, missing, never (default: each service's pull_policy, else missing)"},
				&cli.BoolFlag{Name: "strict-ports", Usage: "fail (exit 3) instead of moving a requested port that is taken"},
				&cli.BoolFlag{Name: "publish-all", Usage: "publish ports without a host IP on all interfaces instead of 127.0.0.1"},
				&cli.BoolFlag{Name: "no-env-files", Usage: "leave the declared env files as they are (only report drift); also x-devenv.write_env_files: false"},
				&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing"},
				&cli.BoolFlag{Name: "no-recreate", Usage: "keep existing containers even if the file changed them"},
				&cli.BoolFlag{Name: "no-start", Usage: "create containers without starting them (as devenv create)"},
				&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: -1, Usage: "seconds a container being recreated gets to stop (default: its stop_grace_period)"},
				&cli.BoolFlag{Name: "quiet-pull", Usage: "pull without reporting progress"},
				&cli.BoolFlag{Name: "build", Usage: "build images before starting (default: only those that are missing)"},
				&cli.BoolFlag{Name: "no-build", Usage: "do not build images, even missing ones"},
				&cli.BoolFlag{Name: "quiet-build", Usage: "build without reporting progress"},
				&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "accepted: devenv asks no questions"},
				// compose's attached mode: any of these follows the output.
				&cli.StringSliceFlag{Name: "attach", Usage: "attached: follow these services' output (repeatable)"},
				&cli.StringSliceFlag{Name: "no-attach", Usage: "attached: do not follow these services' output"},
				&cli.BoolFlag{Name: "attach-dependencies", Usage: "attached: follow the dependencies' output too"},
				&cli.BoolFlag{Name: "abort-on-container-exit", Usage: "attached: stop everything when a container exits"},
				&cli.BoolFlag{Name: "abort-on-container-failure", Usage: "attached: stop everything when a container exits with an error"},
				&cli.StringFlag{Name: "exit-code-from", Usage: "attached: exit with this service's exit code (implies --abort-on-container-exit)"},
				&cli.BoolFlag{Name: "timestamps", Usage: "attached: show timestamps"},
				&cli.BoolFlag{Name: "no-color", Usage: "attached: monochrome output"},
				&cli.BoolFlag{Name: "no-log-prefix", Usage: "attached: do not prefix lines with the container"},
				&cli.BoolFlag{Name: "menu", Usage: "accepted as --menu=false: devenv has no navigation menu"},
			},
			Action: func(c *cli.Context) error {
				if c.Bool("menu") {
					return usagef("up --menu: devenv has no navigation menu; devenv logs -f, ps and stop do what it offers")
				}
				attached := false
				for _, f := range []string{"attach", "no-attach", "attach-dependencies", "abort-on-container-exit", "abort-on-container-failure", "exit-code-from", "timestamps", "no-color", "no-log-prefix"} {
					if c.IsSet(f) {
						attached = true
						if c.Bool("detach") {
							return usagef("up: -d and --%s contradict each other (--%s follows the output)", f, f)
						}
					}
				}
				switch {
				case c.Bool("wait") && c.Bool("no-wait"):
					return usagef("up: --wait and --no-wait contradict each other")
				case attached && c.Bool("wait"):
					return usagef("up: --wait returns once healthy and the attach flags follow the output; choose one")
				case c.Bool("abort-on-container-exit") && c.Bool("abort-on-container-failure"):
					return usagef("up: --abort-on-container-exit and --abort-on-container-failure contradict each other")
				case c.IsSet("attach") && c.Bool("attach-dependencies"):
					return usagef("up: --attach names the services to follow; --attach-dependencies cannot add to it")
				}
				if c.Bool("force-recreate") && c.Bool("no-recreate") {
					return usagef("up: --force-recreate and --no-recreate contradict each other")
				}
				if c.Bool("build") && c.Bool("no-build") {
					return usagef("up: --build and --no-build contradict each other")
				}
				stopTimeout, err := timeoutOf(c)
				if err != nil {
					return err
				}
				dryRun := c.Bool("dry-run") || a.dryRun
				waitTimeout, err := parseWaitTimeout(c.String("wait-timeout"))
				if err != nil {
					return err
				}
				pull, err := pullFlag(c)
				if err != nil {
					return err
				}
				p, err := a.project(c.Context)
				if err != nil {
					return err
				}
				follow := c.StringSlice("attach")
				if len(follow) == 0 && !c.Bool("attach-dependencies") {
					follow = c.Args().Slice()
				}
				for _, s := range append(c.StringSlice("attach"), c.StringSlice("no-attach")...) {
					if _, isHost := p.X.Host[s]; !isHost && !p.Declares(s) {
						return usagef("up: no such service to attach to: %s", s)
					}
				}
				rep := a.reporter()
				o, err := a.orch(rep)
				if err != nil {
					rep.Close()
					return err
				}
				res, err := o.Up(c.Context, p, orchestrator.UpOptions{
					Services: c.Args().Slice(), NoDeps: c.Bool("no-deps"), ForceRecreate: c.Bool("force-recreate"),
					// Attached, as compose's: the output shows readiness, and a
					// container that exits is the attached half's business.
					RemoveOrphans: c.Bool("remove-orphans"), NoWait: c.Bool("no-wait") || c.Bool("no-start") || attached, WaitTimeout: waitTimeout,
					Pull: pull, DryRun: dryRun, NoRecreate: c.Bool("no-recreate"), NoStart: c.Bool("no-start"), NoEnvFiles: c.Bool("no-env-files"),
					StopTimeout: stopTimeout, QuietPull: c.Bool("quiet-pull"), Build: buildFlag(c), QuietBuild: c.Bool("quiet-build"),
					Ports: orchestrator.PortOptions{Strict: c.Bool("strict-ports"), PublishAll: c.Bool("publish-all")},
				})
				rep.Close()
				if err == nil && dryRun {
					_, err = a.stdout.Write([]byte(res.Plan.String() + "\n"))
				}
				if err != nil || dryRun || !attached || c.Bool("no-start") {
					return err
				}
				o.Reporter = a.reporterAfterLive() // the live display has ended
				code, err := o.Attach(c.Context, p, res, orchestrator.AttachOptions{
					Services: follow, NoAttach: c.StringSlice("no-attach"), AbortOnExit: c.Bool("abort-on-container-exit"), AbortOnFailure: c.Bool("abort-on-container-failure"),
					ExitCodeFrom: c.String("exit-code-from"), Timestamps: c.Bool("timestamps"), NoPrefix: c.Bool("no-log-prefix"), Timeout: stopTimeout,
				}, a.rawStdout)
				return exitWith(code, err)
			},
		},
		{
			Name:      "down",
			Usage:     "stop and remove the project's containers and networks; volumes stay unless -v",
			UsageText: "devenv down        # keeps named volumes and their data\n   devenv down -v     # also removes this project's named volumes\n   devenv -p old-project down   # no compose file needed with -p",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove the project's named volumes (never external ones)"},
				&cli.BoolFlag{Name: "remove-orphans", Usage: "also remove containers of services not in the file"},
				&cli.StringFlag{Name: "rmi", Usage: `remove images: "all" (the services' images) or "local" (those without image:, which devenv never has)`},
				timeoutFlag,
			},
			Action: func(c *cli.Context) error {
				timeout, err := timeoutOf(c)
				if err != nil {
					return err
				}
				if r := c.String("rmi"); r != "" && r != "all" && r != "local" {
					return usagef("down --rmi %q: use all or local", r)
				}
				a.nameOnly = true
				return a.withOrch(c, func(o *orchestrator.Orchestrator) error {
					return o.Down(c.Context, a.proj, orchestrator.DownOptions{Timeout: timeout, Volumes: c.Bool("volumes"), RemoveOrphans: c.Bool("remove-orphans"), RemoveImages: c.String("rmi")})
				})
			},
		},
		{
			Name:      "stop",
			Usage:     "stop services, keeping their containers",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv stop\n   devenv stop electric",
			Flags:     []cli.Flag{timeoutFlag},
			Action: func(c *cli.Context) error {
				timeout, err := timeoutOf(c)
				if err != nil {
					return err
				}
				a.nameOnly = true
				return a.withOrch(c, func(o *orchestrator.Orchestrator) error {
					return o.Stop(c.Context, a.proj, orchestrator.StopOptions{Services: c.Args().Slice(), Timeout: timeout})
				})
			},
		},
		{
			Name:      "start",
			Usage:     "start existing containers of services",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv start\n   devenv start --wait postgres",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "wait", Usage: "return once the containers run and are healthy"},
				&cli.StringFlag{Name: "wait-timeout", Value: "120", Usage: "how long --wait waits: seconds as in compose (120), or a duration (2m)"},
			},
			Action: func(c *cli.Context) error {
				waitTimeout, err := parseWaitTimeout(c.String("wait-timeout"))
				if err != nil {
					return err
				}
				return a.withOrch(c, func(o *orchestrator.Orchestrator) error {
					return o.Start(c.Context, a.proj, orchestrator.StartOptions{Services: c.Args().Slice(), Wait: c.Bool("wait"), WaitTimeout: waitTimeout})
				})
			},
		},
		{
			Name:      "restart",
			Usage:     "stop and start services",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv restart redis",
			Flags:     []cli.Flag{timeoutFlag, &cli.BoolFlag{Name: "no-deps", Usage: "accepted: devenv restart restarts only the named services"}},
			Action: func(c *cli.Context) error {
				timeout, err := timeoutOf(c)
				if err != nil {
					return err
				}
				return a.withOrch(c, func(o *orchestrator.Orchestrator) error {
					return o.Restart(c.Context, a.proj, orchestrator.StopOptions{Services: c.Args().Slice(), Timeout: timeout})
				})
			},
		},
	}
}

// withOrch loads the project and builds the orchestrator with progress.
func (a *app) withOrch(c *cli.Context, fn func(*orchestrator.Orchestrator) error) error {
	if _, err := a.project(c.Context); err != nil {
		return err
	}
	rep := a.reporter()
	defer rep.Close()
	o, err := a.orch(rep)
	if err != nil {
		return err
	}
	return fn(o)
}

// parseWaitTimeout reads --wait-timeout in compose's unit (whole seconds)
// or as a Go duration.
func parseWaitTimeout(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, usagef("--wait-timeout %q: use seconds (120) or a duration (2m)", v)
}

// timeoutOf is -t/--timeout; nil when not given.
func timeoutOf(c *cli.Context) (*time.Duration, error) {
	if !c.IsSet("timeout") {
		return nil, nil
	}
	if c.Int("timeout") < 0 {
		return nil, usagef("%s: --timeout %d: use a number of seconds, 0 or more", c.Command.Name, c.Int("timeout"))
	}
	d := time.Duration(c.Int("timeout")) * time.Second
	return &d, nil
}

// pullFlag is --pull: always, missing, never, or "" for each service's
// pull_policy.
func pullFlag(c *cli.Context) (string, error) {
	switch pull := c.String("pull"); pull {
	case "", "missing", "never", "always", "build":
		return pull, nil
	default:
		return "", usagef("--pull %q: use always, missing, never or build", pull)
	}
}

// buildFlag is --build ("always") or --no-build ("never").
func buildFlag(c *cli.Context) string {
	switch {
	case c.Bool("build"):
		return "always"
	case c.Bool("no-build"):
		return "never"
	}
	return ""
}
