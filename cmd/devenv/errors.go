package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/internal/errdefs"
	"github.com/devenv-dev/devenv/internal/suggest"
	"github.com/urfave/cli/v2"
)

// usageError is a bad flag or argument.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func (e *usageError) Unwrap() error { return errdefs.ErrInvalid }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitError carries an exit code for an error that has already been
// reported (e.g. a failing health or check command).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exitCode maps an error to the contract's exit codes, by its kind
// (internal/errdefs) alone; the one place that does so.
func exitCode(ctx context.Context, err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, errdefs.ErrUnreachable):
		return exitEngine
	case errors.Is(err, errdefs.ErrConflict):
		return exitConflict
	case errors.Is(err, errdefs.ErrInvalid):
		return exitUsage
	}
	return exitFailed
}

// flagError says a flag error of the flag library's in devenv's words:
// the command, the flag as the user spelled it (--name, -n), and the flag
// most likely meant.
func flagError(command string, flags []cli.Flag, err error) error {
	prefix := ""
	if command != "" {
		prefix = command + ": "
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		spelled := "--" + name
		if len(name) == 1 {
			spelled = "-" + name
		}
		var names []string
		for _, f := range append(slices.Clone(flags), globalFlags...) {
			for _, n := range f.Names() {
				if len(n) > 1 {
					names = append(names, n)
				}
			}
		}
		help := "devenv --help"
		if command != "" {
			help = "devenv " + command + " --help"
		}
		if s := suggest.Closest(name, names); s != "" {
			return usagef("%sunknown flag %s; did you mean --%s? (see %s)", prefix, spelled, s, help)
		}
		return usagef("%sunknown flag %s (see %s)", prefix, spelled, help)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return usagef("%sflag %s needs a value", prefix, strings.TrimSpace(name))
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		// invalid value "x" for flag -t: parse error
		return usagef("%sinvalid value %s", prefix, strings.SplitN(rest, ": ", 2)[0])
	}
	return usagef("%s%s", prefix, msg)
}
