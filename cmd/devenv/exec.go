package main

import (
	"context"
	"os"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// execOptions are exec's flags, its service and command.
type execOptions struct {
	Service                   string
	Cmd                       []string
	Detach, NoTTY, Privileged bool
	Env                       cli.StringSlice
	Index                     int
	User, WorkDir             string
	Interactive, TTY          bool
}

func newExecCmd(a *app) *cli.Command {
	o := &execOptions{}
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in a service's running container (a TTY when stdin is a terminal)",
		ArgsUsage: "SERVICE COMMAND [ARG...]",
		UsageText: "devenv exec postgres psql -U postgres\n   echo 'select 1' | devenv exec -T postgres psql -U postgres",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the command in the background", Destination: &o.Detach},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (K=V; repeatable)", Destination: &o.Env},
			indexFlag(&o.Index),
			&cli.BoolFlag{Name: "no-tty", Aliases: []string{"T"}, Usage: "no pseudo-terminal, even when stdin is one", Destination: &o.NoTTY},
			&cli.BoolFlag{Name: "privileged", Usage: "give the command extended privileges", Destination: &o.Privileged},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as this user", Destination: &o.User},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container", Destination: &o.WorkDir},
			// docker exec's -i and -t, hidden in compose too.
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Value: true, Hidden: true, Destination: &o.Interactive},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Value: true, Hidden: true, Destination: &o.TTY},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() < 2 {
				return usagef("exec: give a service and a command: devenv exec SERVICE COMMAND [ARG...]")
			}
			o.Service, o.Cmd = c.Args().First(), c.Args().Tail()
			return runExec(c.Context, a, o)
		},
	}
}

func runExec(ctx context.Context, a *app, o *execOptions) error {
	if err := checkIndex("exec", o.Index); err != nil {
		return err
	}
	p, orch, err := a.projectOrch(ctx)
	if err != nil {
		return err
	}
	var streams orchestrator.Streams // -d: nothing attached
	if !o.Detach {
		streams = a.streams(!o.NoTTY && o.TTY, o.Interactive)
		defer a.raw(&streams)()
	}
	code, err := orch.Exec(ctx, p, orchestrator.ExecOptions{
		Service: o.Service, Index: o.Index, Streams: streams,
		Spec: orchestrator.ExecSpec{Cmd: o.Cmd, Env: o.Env.Value(), User: o.User, WorkingDir: o.WorkDir, Privileged: o.Privileged},
	})
	return exitWith(code, err)
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
