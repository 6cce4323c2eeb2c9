package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/mattn/go-shellwords"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// execCommands are compose's exec, run and pull, and devenv's connect.
func execCommands(a *app) []*cli.Command {
	return []*cli.Command{
		{
			Name:      "exec",
			Usage:     "run a command in a service's running container (a TTY when stdin is a terminal)",
			ArgsUsage: "SERVICE COMMAND [ARG...]",
			UsageText: "devenv exec postgres psql -U postgres\n   echo 'select 1' | devenv exec -T postgres psql -U postgres",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the command in the background"},
				&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (K=V; repeatable)"},
				indexFlag(),
				&cli.BoolFlag{Name: "no-tty", Aliases: []string{"T"}, Usage: "no pseudo-terminal, even when stdin is one"},
				&cli.BoolFlag{Name: "privileged", Usage: "give the command extended privileges"},
				&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as this user"},
				&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
				// docker exec's -i and -t, hidden in compose too.
				&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Value: true, Hidden: true},
				&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Value: true, Hidden: true},
			},
			Action: func(c *cli.Context) error {
				if c.Args().Len() < 2 {
					return usagef("exec: give a service and a command: devenv exec SERVICE COMMAND [ARG...]")
				}
				if err := checkIndex(c); err != nil {
					return err
				}
				p, o, err := a.projectOrch(c.Context)
				if err != nil {
					return err
				}
				var streams orchestrator.Streams // -d: nothing attached
				if !c.Bool("detach") {
					streams = a.streams(!c.Bool("no-tty") && c.Bool("tty"), c.Bool("interactive"))
					defer a.raw(&streams)()
				}
				code, err := o.Exec(c.Context, p, orchestrator.ExecOptions{
					Service: c.Args().First(), Index: c.Int("index"), Streams: streams,
					Spec: orchestrator.ExecSpec{Cmd: c.Args().Tail(), Env: c.StringSlice("env"), User: c.String("user"),
						WorkingDir: c.String("workdir"), Privileged: c.Bool("privileged")},
				})
				return exitWith(code, err)
			},
		},
		runCommand(a),
		connectCommand(a),
		buildCommand(a),
		{
			Name:      "pull",
			Usage:     "pull services' images",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv pull\n   devenv pull --policy missing postgres",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "ignore-buildable", Usage: "accepted: services without image: are never pulled"},
				&cli.BoolFlag{Name: "ignore-pull-failures", Usage: "warn about images that cannot be pulled and go on"},
				&cli.BoolFlag{Name: "include-deps", Usage: "also pull the services the named ones depend on"},
				&cli.StringFlag{Name: "policy", Usage: "missing (only absent images) or always (default: each service's pull_policy; never and build skip it)"},
				&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
			},
			Action: func(c *cli.Context) error {
				switch c.String("policy") {
				case "", "missing", "always":
				default:
					return usagef("pull: --policy %q: use missing or always", c.String("policy"))
				}
				if c.Bool("quiet") {
					a.progress = "quiet"
				}
				return a.withOrch(c.Context, loading{}, func(o *orchestrator.Orchestrator, p *project) error {
					return o.Pull(c.Context, p, orchestrator.PullOptions{Services: c.Args().Slice(), Policy: c.String("policy"),
						IgnoreFailures: c.Bool("ignore-pull-failures"), IncludeDeps: c.Bool("include-deps")})
				})
			},
		},
	}
}

func runCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a one-off container of a service (its dependencies started first)",
		ArgsUsage: "SERVICE [COMMAND [ARG...]]",
		UsageText: "devenv run --rm postgres psql -h postgres -U postgres\n   devenv run --rm --service-ports web",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "cap-add", Usage: "add a Linux capability"},
			&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop a Linux capability"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "start it in the background and print its name"},
			&cli.StringFlag{Name: "entrypoint", Usage: "replace the image's entrypoint"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (K=V; repeatable)"},
			&cli.StringSliceFlag{Name: "env-from-file", Usage: "set the variables of an env file"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Value: true, Usage: "keep stdin open (default true)"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "add a label (K=V)"},
			&cli.StringFlag{Name: "name", Usage: "container name (default PROJECT-SERVICE-run-ID)"},
			&cli.BoolFlag{Name: "no-deps", Usage: "do not start the services it depends on"},
			&cli.BoolFlag{Name: "no-tty", Aliases: []string{"T"}, Usage: "no pseudo-terminal, even when stdin is one"},
			&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a port, [IP:]HOST:CONTAINER (127.0.0.1 unless IP given)"},
			&cli.StringFlag{Name: "pull", Usage: "pull the image: always, missing, never"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
			&cli.BoolFlag{Name: "quiet-pull", Usage: "no progress output while pulling"},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers of services not in the file while starting dependencies"},
			&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits"},
			&cli.BoolFlag{Name: "service-ports", Aliases: []string{"P"}, Usage: "publish the service's ports, as the registry assigns them"},
			&cli.BoolFlag{Name: "use-aliases", Usage: "join the networks with the service's aliases"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as this user"},
			&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "mount a volume or bind (compose's short syntax)"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Value: true, Hidden: true}, // docker run's -t, hidden in compose too
			&cli.BoolFlag{Name: "build", Usage: "build the image before running"},
			&cli.BoolFlag{Name: "quiet-build", Usage: "build without reporting progress"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() < 1 {
				return usagef("run: give a service: devenv run SERVICE [COMMAND...]")
			}
			pull, err := pullPolicy(c.String("pull"))
			if err != nil {
				return err
			}
			env, err := runEnv(c)
			if err != nil {
				return err
			}
			if c.Bool("quiet") || c.Bool("quiet-pull") || c.Bool("quiet-build") {
				a.progress = "quiet"
			}
			opts := orchestrator.RunOptions{
				Service: c.Args().First(), Env: env, Labels: c.StringSlice("label"), Volumes: c.StringSlice("volume"),
				User: c.String("user"), WorkDir: c.String("workdir"), Name: c.String("name"),
				CapAdd: c.StringSlice("cap-add"), CapDrop: c.StringSlice("cap-drop"),
				Rm: c.Bool("rm"), Detach: c.Bool("detach"), NoDeps: c.Bool("no-deps"),
				ServicePorts: c.Bool("service-ports"), Publish: c.StringSlice("publish"), UseAliases: c.Bool("use-aliases"),
				Pull: pull, RemoveOrphans: c.Bool("remove-orphans"), Build: buildPolicy(c.Bool("build"), c.Bool("no-build")),
			}
			if c.Args().Len() > 1 {
				opts.Cmd = c.Args().Tail()
			}
			if c.IsSet("entrypoint") {
				// Split as compose splits it: --entrypoint "sh -c".
				if opts.Entrypoint, err = shellwords.Parse(c.String("entrypoint")); err != nil {
					return usagef("run: --entrypoint %q: %v", c.String("entrypoint"), err)
				}
				if opts.Entrypoint == nil {
					opts.Entrypoint = []string{}
				}
			}
			p, err := a.project(c.Context)
			if err != nil {
				return err
			}
			rep := a.reporter()
			var once sync.Once
			closeRep := func() { once.Do(rep.Close) }
			defer closeRep()
			o, err := a.orch(rep)
			if err != nil {
				return err
			}
			restore := func() {}
			defer func() { restore() }()
			if !opts.Detach {
				opts.Streams = a.streams(!c.Bool("no-tty") && c.Bool("tty"), c.Bool("interactive"))
			}
			// Raw mode only once the container starts: dependencies, pulls
			// and Ctrl-C before that behave as in up.
			opts.Attaching = func(s *orchestrator.Streams) {
				closeRep()
				restore = a.raw(s)
			}
			res, err := o.Run(c.Context, p, opts)
			if err == nil && opts.Detach {
				fmt.Fprintln(a.stdout, res.Name)
			}
			return exitWith(res.ExitCode, err)
		},
	}
}

// runEnv is --env-from-file's variables, then each -e.
func runEnv(c *cli.Context) ([]string, error) {
	var env []string
	for _, f := range c.StringSlice("env-from-file") {
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
			env = append(env, k+"="+vars[k])
		}
	}
	return append(env, c.StringSlice("env")...), nil
}

func connectCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "connect",
		Usage:     "open a database service's own client (psql, redis-cli) inside its container, or print its URL",
		ArgsUsage: "[SERVICE]",
		UsageText: "devenv connect postgres\n   echo 'select 1' | devenv connect -T postgres\n   psql \"$(devenv connect --url postgres)\"",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "url", Usage: "print the URL a tool on this machine would use, with the assigned port"},
			&cli.BoolFlag{Name: "no-tty", Aliases: []string{"T"}, Usage: "no pseudo-terminal, even when stdin is one"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 1 {
				return usagef("connect: give at most one service")
			}
			p, o, err := a.projectOrch(c.Context)
			if err != nil {
				return err
			}
			cl, err := o.Connect(c.Context, p, c.Args().First(), c.Bool("url"))
			if err != nil {
				return err
			}
			if c.Bool("url") {
				fmt.Fprintln(a.stdout, cl.URL)
				return nil
			}
			streams := a.streams(!c.Bool("no-tty"), true)
			defer a.raw(&streams)()
			code, err := o.Exec(c.Context, p, orchestrator.ExecOptions{Service: cl.Service, Streams: streams, Spec: orchestrator.ExecSpec{Cmd: cl.Cmd, Env: cl.Env}})
			return exitWith(code, err)
		},
	}
}

// exitWith passes a command's exit code on as devenv's.
func exitWith(code int, err error) error {
	if err != nil || code == 0 {
		return err
	}
	return &exitError{code: code}
}

// streams are the streams of an attached command: a TTY when wantTTY and
// both stdin and stdout are terminals (so exec ... > file stays plain),
// stdin when interactive.
func (a *app) streams(wantTTY, interactive bool) orchestrator.Streams {
	s := orchestrator.Streams{Stdout: a.rawStdout, Stderr: a.stderr}
	if interactive && a.stdin != nil {
		s.Stdin = a.stdin
	}
	in, inOK := a.stdin.(*os.File)
	out, outOK := a.rawStdout.(*os.File)
	if !wantTTY || !inOK || !outOK || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return s
	}
	s.Tty = true
	if w, h, err := term.GetSize(int(out.Fd())); err == nil {
		s.Size = orchestrator.TermSize{Width: uint(w), Height: uint(h)}
	}
	return s
}

// raw puts the terminal in raw mode for a TTY session and follows its
// size; restore puts it back. It does nothing without a TTY.
func (a *app) raw(s *orchestrator.Streams) (restore func()) {
	in, ok := a.stdin.(*os.File)
	if !s.Tty || !ok {
		return func() {}
	}
	out := int(in.Fd())
	if f, ok := a.rawStdout.(*os.File); ok {
		out = int(f.Fd())
	}
	resize, stopResize := watchResize(out)
	s.Resize = resize
	old, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		stopResize()
		return func() {}
	}
	return func() {
		stopResize()
		_ = term.Restore(int(in.Fd()), old)
	}
}

func buildCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "build services' images through the engine (compose's names and labels)",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv build\n   devenv build --no-cache --pull api",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "build-arg", Usage: "set a build argument (K=V, or K from the environment)"},
			&cli.BoolFlag{Name: "no-cache", Usage: "do not use the engine's build cache"},
			&cli.BoolFlag{Name: "pull", Usage: "always pull the base images"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
			&cli.BoolFlag{Name: "with-dependencies", Usage: "also build the services the named ones depend on"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("quiet") {
				a.progress = "quiet"
			}
			args := map[string]*string{}
			for _, kv := range c.StringSlice("build-arg") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					args[k] = &v
				} else {
					args[k] = nil // K alone: the core takes it from the environment
				}
			}
			return a.withOrch(c.Context, loading{}, func(o *orchestrator.Orchestrator, p *project) error {
				return o.Build(c.Context, p, orchestrator.BuildOptions{Services: c.Args().Slice(), NoCache: c.Bool("no-cache"),
					Pull: c.Bool("pull"), Quiet: c.Bool("quiet"), Args: args, WithDeps: c.Bool("with-dependencies")})
			})
		},
	}
}
