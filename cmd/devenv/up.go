package main

import (
	"context"
	"strconv"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// upOptions are up's flags and services.
type upOptions struct {
	Services                                                  []string
	Detach, Wait, NoWait                                      bool
	WaitTimeout                                               string
	ForceRecreate, NoRecreate, NoDeps, RemoveOrphans, NoStart bool
	Pull                                                      string
	StrictPorts, PublishAll, NoEnvFiles, DryRun               bool
	FromInstance                                              string
	Timeout                                                   timeoutOption
	QuietPull, Build, NoBuild, QuietBuild, Yes                bool
	// compose's attached mode.
	Attach, NoAttach                                cli.StringSlice
	AttachDependencies, AbortOnExit, AbortOnFailure bool
	ExitCodeFrom                                    string
	Timestamps, NoColor, NoLogPrefix, Menu          bool
	givenFlags
}

// attachFlags are the flags that make up follow the output, as compose's
// attached mode.
var attachFlags = []string{"attach", "no-attach", "attach-dependencies", "abort-on-container-exit", "abort-on-container-failure", "exit-code-from", "timestamps", "no-color", "no-log-prefix"}

func newUpCmd(a *app) *cli.Command {
	o := &upOptions{}
	return &cli.Command{
		Name:      "up",
		Usage:     "reconcile ports, create or recreate what changed, start in dependency order and wait until healthy",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv up                      # the whole stack, waits until healthy\n   devenv up postgres redis       # these services and their dependencies\n   devenv up --strict-ports       # fail instead of moving a taken port",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "accepted for docker compose's hands: devenv's up always returns once the stack is healthy, leaving it running", Destination: &o.Detach},
			&cli.BoolFlag{Name: "wait", Usage: "accepted for docker compose's hands: devenv's up waits for health unless --no-wait", Destination: &o.Wait},
			&cli.BoolFlag{Name: "no-wait", Usage: "return once containers are started", Destination: &o.NoWait},
			&cli.StringFlag{Name: "wait-timeout", Value: "120", Usage: "how long to wait for health: seconds as in compose (120), or a duration (2m)", Destination: &o.WaitTimeout},
			&cli.BoolFlag{Name: "force-recreate", Usage: "recreate containers even if unchanged", Destination: &o.ForceRecreate},
			&cli.BoolFlag{Name: "no-deps", Usage: "do not start linked services", Destination: &o.NoDeps},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers of services not in the file", Destination: &o.RemoveOrphans},
			&cli.StringFlag{Name: "pull", Usage: "pull images: always, missing, never (default: each service's pull_policy, else missing)", Destination: &o.Pull},
			&cli.BoolFlag{Name: "strict-ports", Usage: "fail (exit 3) instead of moving a requested port that is taken", Destination: &o.StrictPorts},
			&cli.BoolFlag{Name: "publish-all", Usage: "publish ports without a host IP on all interfaces instead of 127.0.0.1", Destination: &o.PublishAll},
			&cli.BoolFlag{Name: "no-env-files", Usage: "leave the declared env files as they are (only report drift); also x-devenv.write_env_files: false", Destination: &o.NoEnvFiles},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing", Destination: &o.DryRun},
			&cli.StringFlag{Name: "from-instance", Usage: "fill this instance's empty volumes from another instance's (main: the main checkout's) before anything starts", Destination: &o.FromInstance},
			&cli.BoolFlag{Name: "no-recreate", Usage: "keep existing containers even if the file changed them", Destination: &o.NoRecreate},
			&cli.BoolFlag{Name: "no-start", Usage: "create containers without starting them (as devenv create)", Destination: &o.NoStart},
			o.Timeout.flagUsage("seconds a container being recreated gets to stop (default: its stop_grace_period)"),
			&cli.BoolFlag{Name: "quiet-pull", Usage: "pull without reporting progress", Destination: &o.QuietPull},
			&cli.BoolFlag{Name: "build", Usage: "build images before starting (default: only those that are missing)", Destination: &o.Build},
			&cli.BoolFlag{Name: "no-build", Usage: "do not build images, even missing ones", Destination: &o.NoBuild},
			&cli.BoolFlag{Name: "quiet-build", Usage: "build without reporting progress", Destination: &o.QuietBuild},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "accepted: devenv asks no questions", Destination: &o.Yes},
			// compose's attached mode: any of these follows the output.
			&cli.StringSliceFlag{Name: "attach", Usage: "attached: follow these services' output (repeatable)", Destination: &o.Attach},
			&cli.StringSliceFlag{Name: "no-attach", Usage: "attached: do not follow these services' output", Destination: &o.NoAttach},
			&cli.BoolFlag{Name: "attach-dependencies", Usage: "attached: follow the dependencies' output too", Destination: &o.AttachDependencies},
			&cli.BoolFlag{Name: "abort-on-container-exit", Usage: "attached: stop everything when a container exits", Destination: &o.AbortOnExit},
			&cli.BoolFlag{Name: "abort-on-container-failure", Usage: "attached: stop everything when a container exits with an error", Destination: &o.AbortOnFailure},
			&cli.StringFlag{Name: "exit-code-from", Usage: "attached: exit with this service's exit code (implies --abort-on-container-exit)", Destination: &o.ExitCodeFrom},
			&cli.BoolFlag{Name: "timestamps", Usage: "attached: show timestamps", Destination: &o.Timestamps},
			&cli.BoolFlag{Name: "no-color", Usage: "attached: monochrome output", Destination: &o.NoColor},
			&cli.BoolFlag{Name: "no-log-prefix", Usage: "attached: do not prefix lines with the container", Destination: &o.NoLogPrefix},
			&cli.BoolFlag{Name: "menu", Usage: "accepted as --menu=false: devenv has no navigation menu", Destination: &o.Menu},
		},
		Action: func(c *cli.Context) error {
			o.Services, o.isSet = c.Args().Slice(), c.IsSet
			return runUp(c.Context, a, o)
		},
	}
}

// attached says whether up follows the output (compose's attached mode),
// and refuses flags that contradict each other.
func (o *upOptions) attached() (bool, error) {
	if o.Menu {
		return false, usagef("up --menu: devenv has no navigation menu; devenv logs -f, ps and stop do what it offers")
	}
	attached := false
	for _, f := range attachFlags {
		if o.given(f) {
			attached = true
			if o.Detach {
				return false, usagef("up: -d and --%s contradict each other (--%s follows the output)", f, f)
			}
		}
	}
	switch {
	case o.Wait && o.NoWait:
		return false, usagef("up: --wait and --no-wait contradict each other")
	case attached && o.Wait:
		return false, usagef("up: --wait returns once healthy and the attach flags follow the output; choose one")
	case o.AbortOnExit && o.AbortOnFailure:
		return false, usagef("up: --abort-on-container-exit and --abort-on-container-failure contradict each other")
	case o.given("attach") && o.AttachDependencies:
		return false, usagef("up: --attach names the services to follow; --attach-dependencies cannot add to it")
	case o.ForceRecreate && o.NoRecreate:
		return false, usagef("up: --force-recreate and --no-recreate contradict each other")
	case o.Build && o.NoBuild:
		return false, usagef("up: --build and --no-build contradict each other")
	}
	return attached, nil
}

func runUp(ctx context.Context, a *app, o *upOptions) error {
	attached, err := o.attached()
	if err != nil {
		return err
	}
	stopTimeout, err := o.Timeout.get("up")
	if err != nil {
		return err
	}
	dryRun := o.DryRun || a.dryRun
	waitTimeout, err := parseWaitTimeout(o.WaitTimeout)
	if err != nil {
		return err
	}
	pull, err := pullPolicy(o.Pull)
	if err != nil {
		return err
	}
	p, err := a.project(ctx)
	if err != nil {
		return err
	}
	follow := o.Attach.Value()
	if len(follow) == 0 && !o.AttachDependencies {
		follow = o.Services
	}
	for _, s := range append(o.Attach.Value(), o.NoAttach.Value()...) {
		if _, isHost := p.X.Host[s]; !isHost && !p.Declares(s) {
			return usagef("up: no such service to attach to: %s", s)
		}
	}
	names, err := p.Names()
	if err != nil {
		return err
	}
	if len(names) > 0 && !dryRun && !o.NoStart {
		a.startProxy(ctx)
	}
	rep := a.reporter()
	orch, err := a.orch(rep)
	if err != nil {
		rep.Close()
		return err
	}
	res, err := orch.Up(ctx, p, orchestrator.UpOptions{
		Services: o.Services, NoDeps: o.NoDeps, ForceRecreate: o.ForceRecreate,
		// Attached, as compose's: the output shows readiness, and a
		// container that exits is the attached half's business.
		RemoveOrphans: o.RemoveOrphans, NoWait: o.NoWait || o.NoStart || attached, WaitTimeout: waitTimeout,
		Pull: pull, DryRun: dryRun, NoRecreate: o.NoRecreate, NoStart: o.NoStart, NoEnvFiles: o.NoEnvFiles,
		StopTimeout: stopTimeout, QuietPull: o.QuietPull, Build: buildPolicy(o.Build, o.NoBuild), QuietBuild: o.QuietBuild,
		Ports: orchestrator.PortOptions{Strict: o.StrictPorts, PublishAll: o.PublishAll}, FromInstance: o.FromInstance,
	})
	rep.Close()
	if err == nil && dryRun {
		_, err = a.stdout.Write([]byte(res.Plan.Render() + "\n"))
	}
	if err == nil && !dryRun && !o.NoStart {
		a.printNames(names)
	}
	if err != nil || dryRun || !attached || o.NoStart {
		return err
	}
	orch.Reporter = a.reporterAfterLive() // the live display has ended
	code, err := orch.Attach(ctx, p, res, orchestrator.AttachOptions{
		Services: follow, NoAttach: o.NoAttach.Value(), AbortOnExit: o.AbortOnExit, AbortOnFailure: o.AbortOnFailure,
		ExitCodeFrom: o.ExitCodeFrom, Timestamps: o.Timestamps, NoPrefix: o.NoLogPrefix, Timeout: stopTimeout,
	}, a.rawStdout)
	return exitWith(code, err)
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

// pullPolicy is --pull: always, missing, never, build, or "" for each
// service's pull_policy.
func pullPolicy(pull string) (string, error) {
	switch pull {
	case "", "missing", "never", "always", "build":
		return pull, nil
	default:
		return "", usagef("--pull %q: use always, missing, never or build", pull)
	}
}

// buildPolicy is --build ("always") or --no-build ("never").
func buildPolicy(build, noBuild bool) string {
	switch {
	case build:
		return "always"
	case noBuild:
		return "never"
	}
	return ""
}
