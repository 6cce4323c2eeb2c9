package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/docker"
	"github.com/devenv-dev/devenv/orchestrator/sockets"
	"github.com/devenv-dev/devenv/registry"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// Exit codes of the contract (design.md).
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitConflict    = 3
	exitEngine      = 4
	exitInterrupted = 130
)

// env is the process environment, injected so tests can set it.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func (e env) list() []string {
	out := make([]string, 0, len(e))
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

// app holds the streams, the environment, the global flags and lazily
// built dependencies.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// rawStdout is stdout without buffering, for streams such as logs -f.
	rawStdout io.Writer
	env       env
	dir       string

	files       []string
	projectName string
	profiles    []string
	envFiles    []string
	projectDir  string
	registry    string
	progress    string
	// globals is where the global flags are bound; readGlobals copies
	// them into the fields above.
	globals globalOptions

	engine   *docker.Engine
	endpoint docker.Endpoint
	// local replaces the Docker engine (tests run commands against
	// internal/fakeengine), as a local engine.
	local   orchestrator.Engine
	store   *registry.Store
	proj    *compose.Project
	secrets []string
	// noColor is --ansi never (NO_COLOR without touching the environment
	// the project is interpolated with).
	noColor bool
	// dryRun is the global --dry-run (up and create only).
	dryRun bool
}

// readGlobals takes the global flags' values from where they are bound.
func (a *app) readGlobals() {
	g := &a.globals
	a.files = g.Files.Value()
	a.projectName = g.ProjectName
	a.profiles = g.Profiles.Value()
	a.envFiles = g.EnvFiles.Value()
	a.projectDir = g.ProjectDir
	a.registry = g.Registry
	a.progress = g.Progress
}

// loading says how a command loads the project: Fast skips compose's
// schema validation (commands that only read), ByName allows -p NAME
// without a compose file (down, stop, ps, logs…). Quiet, for withOrch,
// reports no progress (the command's own --quiet).
type loading struct{ Fast, ByName, Quiet bool }

// project loads the compose project once, validated, a file required.
func (a *app) project(ctx context.Context) (*compose.Project, error) {
	return a.projectWith(ctx, loading{})
}

// projectWith loads the compose project once, as l says.
func (a *app) projectWith(ctx context.Context, l loading) (*compose.Project, error) {
	if a.proj != nil {
		return a.proj, nil
	}
	p, err := compose.Load(ctx, a.loadOptions(l))
	if err != nil {
		return nil, err
	}
	if name := a.instanceOf(p); name != "" {
		o := a.loadOptions(l)
		o.Instance = name
		if p, err = compose.Load(ctx, o); err != nil {
			return nil, err
		}
	}
	a.proj = p
	a.secrets = secretValues(p)
	return p, nil
}

// stdoutIsTerminal says whether the real stdout is a terminal.
func (a *app) stdoutIsTerminal() bool {
	f, ok := a.rawStdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// loadOptions are the global flags as compose loading options.
func (a *app) loadOptions(l loading) compose.Options {
	return compose.Options{
		Files: append([]string(nil), a.files...), ProjectName: a.projectName, Profiles: a.profiles,
		EnvFiles: a.envFiles, ProjectDirectory: a.projectDir, WorkingDir: a.dir, Environ: a.env.list(),
		SkipSchema: l.Fast, AllowMissing: l.ByName,
		Instance: a.instance(), DetectInstance: true,
	}
}

// registryStore locates the registry file.
func (a *app) registryStore() (*registry.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	s, err := registry.Locate(a.registry, a.env.get)
	if err != nil {
		return nil, err
	}
	if t := a.env.get("DEVENV_LOCK_TIMEOUT"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return nil, usagef("DEVENV_LOCK_TIMEOUT=%q: use a duration such as 30s", t)
		}
		s.LockTimeout = d
	}
	a.store = s
	return s, nil
}

// dockerEngine resolves the endpoint and builds the client; no request is
// sent until a command needs one.
func (a *app) dockerEngine() (*docker.Engine, error) {
	if a.engine != nil {
		return a.engine, nil
	}
	ep, err := docker.Resolve(a.env.get)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", orchestrator.ErrEngineUnreachable, err)
	}
	var trace io.Writer
	if a.env.get("DEVENV_DEBUG") == "api" {
		trace = a.stderr
	}
	e, err := docker.New(ep, trace)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", orchestrator.ErrEngineUnreachable, err)
	}
	e.RelayBinary = docker.RelayBinary(a.env.get("DEVENV_RELAY_BINARY"))
	if ep.PlainTCP() {
		fmt.Fprintf(a.stderr, "warning: engine %s is reached over plain TCP without TLS: anyone who can reach that port controls the engine\n", ep.Host)
	}
	a.engine, a.endpoint = e, ep
	return e, nil
}

// orch builds the orchestrator with the chosen progress renderer.
func (a *app) orch(rep orchestrator.Reporter) (*orchestrator.Orchestrator, error) {
	s, err := a.registryStore()
	if err != nil {
		return nil, err
	}
	if a.local != nil {
		return &orchestrator.Orchestrator{Engine: a.local, Registry: s, Reporter: rep, Version: version(),
			Hosts: hostRunnerFor(a.env.get), Sockets: sockets.Listening, Parallel: a.globals.Parallel, CACert: a.caCert()}, nil
	}
	e, err := a.dockerEngine()
	if err != nil {
		return nil, err
	}
	o := &orchestrator.Orchestrator{Engine: e, Registry: s, Reporter: rep, Version: version(),
		Hosts: hostRunnerFor(a.env.get), Sockets: sockets.Listening, Parallel: a.globals.Parallel, CACert: a.caCert()}
	if a.endpoint.Remote {
		// A remote engine's ports are forwarded here, so this machine's
		// sockets are probed as for a local engine, and health checks
		// dial 127.0.0.1 through the forwards.
		o.Remote, o.EngineEndpoint = e, a.endpoint.Host
		o.EngineKey = a.engineID(s)
		if exe, err := os.Executable(); err == nil {
			o.ForwardCommand = []string{exe}
		}
	}
	return o, nil
}

// engineID is a remote engine's registry key: its ID, asked (tcp and ssh
// to one engine are one engine, and a rebuilt host is a new engine); when
// the engine cannot be asked, the ID the registry recorded for this
// endpoint, else the endpoint (the commands that need the engine fail on
// their own).
func (a *app) engineID(s *registry.Store) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if id, err := a.engine.ID(ctx); err == nil {
		return id
	}
	if reg, err := s.Load(); err == nil {
		for _, p := range reg.Projects {
			if p.Endpoint == a.endpoint.Host && p.Engine != "" && p.Engine != p.Endpoint {
				return p.Engine
			}
		}
	}
	return a.endpoint.Host
}

// project is a loaded compose project, as commands receive it.
type project = compose.Project

// withOrch loads the project as l says and builds the orchestrator with
// progress, for a command that changes things.
func (a *app) withOrch(ctx context.Context, l loading, fn func(*orchestrator.Orchestrator, *project) error) error {
	p, err := a.projectWith(ctx, l)
	if err != nil {
		return err
	}
	rep := a.reporterQuiet(l.Quiet)
	defer rep.Close()
	o, err := a.orch(rep)
	if err != nil {
		return err
	}
	return fn(o, p)
}

// projectOrch loads the project and builds an orchestrator without progress,
// for the commands that print data only.
func (a *app) projectOrch(ctx context.Context) (*compose.Project, *orchestrator.Orchestrator, error) {
	p, err := a.project(ctx)
	if err != nil {
		return nil, nil, err
	}
	o, err := a.orch(orchestrator.Discard{})
	return p, o, err
}

// readOnlyProject is projectOrch for commands that only read: schema
// validation skipped, and -p NAME without a compose file allowed.
func (a *app) readOnlyProject(ctx context.Context) (*compose.Project, *orchestrator.Orchestrator, error) {
	p, err := a.projectWith(ctx, loading{Fast: true, ByName: true})
	if err != nil {
		return nil, nil, err
	}
	o, err := a.orch(orchestrator.Discard{})
	return p, o, err
}

func (a *app) close() {
	if a.engine != nil {
		_ = a.engine.Close()
	}
}

// run is devenv without os.Exit, in the process's working directory.
func run(ctx context.Context, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The real working directory: os.Getwd prefers $PWD only when it names
	// the same directory, so a stale PWD (a process that changed directory
	// without updating it) never points devenv at another project.
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "devenv: working directory: %v\n", err)
		return exitUsage
	}
	return runIn(ctx, wd, args, environ, stdin, stdout, stderr)
}

// runIn is run in directory wd; tests call it.
func runIn(ctx context.Context, wd string, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runOn(ctx, nil, wd, args, environ, stdin, stdout, stderr)
}

// runOn is runIn against eng instead of the Docker engine when eng is not
// nil (tests: internal/fakeengine).
func runOn(ctx context.Context, eng orchestrator.Engine, wd string, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		e[k] = v
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	a := &app{stdin: stdin, stdout: out, rawStdout: stdout, stderr: stderr, env: e, dir: wd, local: eng}
	defer a.close()
	logrus.SetOutput(stderr)
	logrus.SetFormatter(&libraryLog{seen: map[string]bool{}})
	cliApp := newApp(a)
	addComposeParity(cliApp)
	cliApp.Commands = append(cliApp.Commands, completeCommand(a, cliApp))
	line, err := normalizeArgs(cliApp, args)
	if err == nil {
		err = cliApp.RunContext(ctx, line)
	}
	code := exitCode(ctx, err)
	if err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || ee.msg != "" {
			msg := err.Error()
			if code == exitInterrupted {
				msg = "interrupted"
			}
			fmt.Fprintf(stderr, "devenv: %s\n", mask(msg, a.secrets))
		}
	}
	return code
}

func newApp(a *app) *cli.App {
	cli.HelpPrinter = printHelp
	return &cli.App{
		Name:                   "devenv",
		Usage:                  "run the Docker side of many local projects at once, without port conflicts",
		UsageText:              "devenv [global flags] COMMAND [flags] [SERVICE...]",
		Description:            "Global flags may also follow the command: devenv up -f x.yml equals devenv -f x.yml up.\nExit codes: 0 ok, 1 failed, 2 usage/configuration, 3 port conflict, 4 engine unreachable, 130 interrupted.",
		Writer:                 a.stdout,
		ErrWriter:              a.stderr,
		Flags:                  a.globals.flags(),
		HideHelpCommand:        true,
		UseShortOptionHandling: false,
		Suggest:                true,
		ExitErrHandler:         func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return flagError("", globalFlags, err)
		},
		Before: func(c *cli.Context) error {
			a.readGlobals()
			if err := a.checkGlobals(c); err != nil {
				return err
			}
			switch a.progress {
			case "auto", "tty", "plain", "json", "quiet":
			default:
				return usagef("--progress %q: use auto, tty, plain, json or quiet", a.progress)
			}
			return nil
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("unknown command %q (see devenv --help)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: commands(a),
	}
}

func commands(a *app) []*cli.Command {
	cmds := []*cli.Command{}
	cmds = append(cmds, newUpCmd(a), newDownCmd(a), newStopCmd(a), newStartCmd(a), newRestartCmd(a))
	cmds = append(cmds, newKillCmd(a), newPauseCmd(a, "pause", "pause services' running containers", true),
		newPauseCmd(a, "unpause", "unpause services' paused containers", false), newRmCmd(a))
	cmds = append(cmds, newTopCmd(a), newImagesCmd(a), newVolumesCmd(a), newEventsCmd(a), newWaitCmd(a))
	cmds = append(cmds, newCreateCmd(a), newStatsCmd(a), newCpCmd(a))
	cmds = append(cmds, newExecCmd(a), newRunCmd(a), newConnectCmd(a), newBuildCmd(a), newPullCmd(a))
	cmds = append(cmds, completionCommand(a), newInitCmd(a))
	cmds = append(cmds, newPsCmd(a), newLogsCmd(a), newConfigCmd(a), newPortCmd(a), newPortsCmd(a), newProxyCmd(a), newOpenCmd(a), newInstanceCmd(a), newUICmd(a))
	cmds = append(cmds, newHealthCmd(a), newEnvCmd(a), newDoctorCmd(a), newLsCmd(a), newVersionCmd(a), versionFlagCommand(a))
	for _, c := range cmds {
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return flagError(c.Name, c.Flags, err) }
		for _, s := range c.Subcommands {
			s.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return flagError(c.Name+" "+s.Name, s.Flags, err) }
		}
	}
	return cmds
}
