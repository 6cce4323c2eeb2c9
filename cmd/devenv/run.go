package main

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/mattn/go-shellwords"
	"github.com/urfave/cli/v2"
)

// runOptions are run's flags, its service and command.
type runOptions struct {
	Service                                                     string
	Cmd                                                         []string
	CapAdd, CapDrop, Env, EnvFromFile, Labels, Publish, Volumes cli.StringSlice
	Detach, Interactive, NoDeps, NoTTY, Quiet, QuietPull        bool
	RemoveOrphans, Rm, ServicePorts, UseAliases, TTY            bool
	Build, QuietBuild                                           bool
	Entrypoint, Name, Pull, User, WorkDir                       string
	givenFlags
}

func newRunCmd(a *app) *cli.Command {
	o := &runOptions{}
	return &cli.Command{
		Name:      "run",
		Usage:     "run a one-off container of a service (its dependencies started first)",
		ArgsUsage: "SERVICE [COMMAND [ARG...]]",
		UsageText: "devenv run --rm postgres psql -h postgres -U postgres\n   devenv run --rm --service-ports web",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "cap-add", Usage: "add a Linux capability", Destination: &o.CapAdd},
			&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop a Linux capability", Destination: &o.CapDrop},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "start it in the background and print its name", Destination: &o.Detach},
			&cli.StringFlag{Name: "entrypoint", Usage: "replace the image's entrypoint", Destination: &o.Entrypoint},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (K=V; repeatable)", Destination: &o.Env},
			&cli.StringSliceFlag{Name: "env-from-file", Usage: "set the variables of an env file", Destination: &o.EnvFromFile},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Value: true, Usage: "keep stdin open (default true)", Destination: &o.Interactive},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "add a label (K=V)", Destination: &o.Labels},
			&cli.StringFlag{Name: "name", Usage: "container name (default PROJECT-SERVICE-run-ID)", Destination: &o.Name},
			&cli.BoolFlag{Name: "no-deps", Usage: "do not start the services it depends on", Destination: &o.NoDeps},
			&cli.BoolFlag{Name: "no-tty", Aliases: []string{"T"}, Usage: "no pseudo-terminal, even when stdin is one", Destination: &o.NoTTY},
			&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a port, [IP:]HOST:CONTAINER (127.0.0.1 unless IP given)", Destination: &o.Publish},
			&cli.StringFlag{Name: "pull", Usage: "pull the image: always, missing, never", Destination: &o.Pull},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output", Destination: &o.Quiet},
			&cli.BoolFlag{Name: "quiet-pull", Usage: "no progress output while pulling", Destination: &o.QuietPull},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers of services not in the file while starting dependencies", Destination: &o.RemoveOrphans},
			&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits", Destination: &o.Rm},
			&cli.BoolFlag{Name: "service-ports", Aliases: []string{"P"}, Usage: "publish the service's ports, as the registry assigns them", Destination: &o.ServicePorts},
			&cli.BoolFlag{Name: "use-aliases", Usage: "join the networks with the service's aliases", Destination: &o.UseAliases},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as this user", Destination: &o.User},
			&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "mount a volume or bind (compose's short syntax)", Destination: &o.Volumes},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container", Destination: &o.WorkDir},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Value: true, Hidden: true, Destination: &o.TTY}, // docker run's -t, hidden in compose too
			&cli.BoolFlag{Name: "build", Usage: "build the image before running", Destination: &o.Build},
			&cli.BoolFlag{Name: "quiet-build", Usage: "build without reporting progress", Destination: &o.QuietBuild},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() < 1 {
				return usagef("run: give a service: devenv run SERVICE [COMMAND...]")
			}
			o.Service, o.isSet = c.Args().First(), c.IsSet
			if c.Args().Len() > 1 {
				o.Cmd = c.Args().Tail()
			}
			return runRun(c.Context, a, o)
		},
	}
}

// options turns run's flags into the core's options.
func (o *runOptions) options() (orchestrator.RunOptions, error) {
	pull, err := pullPolicy(o.Pull)
	if err != nil {
		return orchestrator.RunOptions{}, err
	}
	env, err := runEnv(o.EnvFromFile.Value(), o.Env.Value())
	if err != nil {
		return orchestrator.RunOptions{}, err
	}
	opts := orchestrator.RunOptions{
		Service: o.Service, Cmd: o.Cmd, Env: env, Labels: o.Labels.Value(), Volumes: o.Volumes.Value(),
		User: o.User, WorkDir: o.WorkDir, Name: o.Name, CapAdd: o.CapAdd.Value(), CapDrop: o.CapDrop.Value(),
		Rm: o.Rm, Detach: o.Detach, NoDeps: o.NoDeps, ServicePorts: o.ServicePorts, Publish: o.Publish.Value(),
		UseAliases: o.UseAliases, Pull: pull, RemoveOrphans: o.RemoveOrphans, Build: buildPolicy(o.Build, false),
	}
	if o.given("entrypoint") {
		// Split as compose splits it: --entrypoint "sh -c".
		if opts.Entrypoint, err = shellwords.Parse(o.Entrypoint); err != nil {
			return opts, usagef("run: --entrypoint %q: %v", o.Entrypoint, err)
		}
		if opts.Entrypoint == nil {
			opts.Entrypoint = []string{}
		}
	}
	return opts, nil
}

func runRun(ctx context.Context, a *app, o *runOptions) error {
	opts, err := o.options()
	if err != nil {
		return err
	}
	p, err := a.project(ctx)
	if err != nil {
		return err
	}
	rep := a.reporterQuiet(o.Quiet || o.QuietPull || o.QuietBuild)
	var once sync.Once
	closeRep := func() { once.Do(rep.Close) }
	defer closeRep()
	orch, err := a.orch(rep)
	if err != nil {
		return err
	}
	restore := func() {}
	defer func() { restore() }()
	if !opts.Detach {
		opts.Streams = a.streams(!o.NoTTY && o.TTY, o.Interactive)
	}
	// Raw mode only once the container starts: dependencies, pulls and
	// Ctrl-C before that behave as in up.
	opts.Attaching = func(s *orchestrator.Streams) {
		closeRep()
		restore = a.raw(s)
	}
	res, err := orch.Run(ctx, p, opts)
	if err == nil && opts.Detach {
		fmt.Fprintln(a.stdout, res.Name)
	}
	return exitWith(res.ExitCode, err)
}

// runEnv is --env-from-file's variables, then each -e.
func runEnv(files, env []string) ([]string, error) {
	var out []string
	for _, f := range files {
		vars, err := dotenv.Read(f)
		if err != nil {
			return nil, usagef("run: --env-from-file %s: %v", f, err)
		}
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, k+"="+vars[k])
		}
	}
	return append(out, env...), nil
}
