package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/internal/suggest"
	"github.com/urfave/cli/v2"
)

// flagNames maps every dashed name of flags to whether it takes a value.
func flagNames(flags []cli.Flag) map[string]bool {
	out := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			dash := "--" + n
			if len(n) == 1 {
				dash = "-" + n
			}
			out[dash] = !isBool
		}
	}
	return out
}

// normalizeArgs lets global flags follow the command (`devenv up -f x.yml`)
// and command flags follow positional arguments (`devenv up db --no-wait`),
// as docker compose does: it moves global flags in front of the command and
// a command's flags in front of its arguments. A `--` ends flag handling.
//
// It also makes the command line's plumbing mean what a docker user
// expects: `devenv help [COMMAND...]` and --help/-h anywhere before a
// command's own command line ask for that command's help; --version or
// -v before the command asks for devenv's version (versionRequest); a
// flag that takes a value and has none is a usage error naming it.
func normalizeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	globalFlags := flagNames(app.Flags)
	globals, i, err := leadingGlobals(args, globalFlags)
	if err != nil {
		return nil, err
	}
	if i < 0 {
		return []string{args[0], versionRequest}, nil
	}
	if i >= len(args) {
		return args, nil
	}
	cmd, path, i, help, err := commandPath(app, args, i)
	if err != nil || help != nil || cmd == nil {
		return help, err
	}
	ownFlags := flagNames(cmd.Flags)
	if _, taken := ownFlags["-h"]; !taken {
		ownFlags["-h"] = false // help, as in compose: -dh is -d -h
	}
	var tail []string
	if commandLineCommands[cmd.Name] {
		// exec SERVICE CMD...: the command's own flags are the command's.
		var flags []string
		flags, tail = splitCommandLine(args[i:], globalFlags, ownFlags)
		args = append(args[:i:i], flags...) // spelled out already, values untouched
	} else {
		args = append(args[:i:i], splitShort(args[i:], ownFlags)...)
	}
	sorted, err := sortFlags(args[i:], globalFlags, ownFlags, strings.Join(path, " "))
	if err != nil {
		return nil, err
	}
	for _, f := range sorted.used {
		if f == "--help" || (f == "-h" && !hasOwnHelp(cmd)) {
			// --help anywhere: the command's help, whatever else is there.
			return append(append([]string{args[0]}, path...), "--help"), nil
		}
	}
	positional := append(sorted.positional, tail...)
	out := append([]string{args[0]}, append(globals, sorted.globals...)...)
	out = append(out, path...)
	out = append(out, sorted.flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out, nil
}

// leadingGlobals are the global flags before the command (they stay where
// they are) and the index of the command; i is -1 for --version or -v.
func leadingGlobals(args []string, globalFlags map[string]bool) (globals []string, i int, err error) {
	i = 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		name, _, hasValue := strings.Cut(args[i], "=")
		if name == "--version" || name == "-v" {
			return nil, -1, nil
		}
		if _, known := globalFlags[name]; !known && name != "--help" && name != "-h" {
			// docker's --context or -H, say: named, not its value taken
			// for a command.
			return nil, 0, flagError("", nil, fmt.Errorf("flag provided but not defined: %s", name))
		}
		globals = append(globals, args[i])
		if globalFlags[name] && !hasValue {
			if i+1 >= len(args) {
				return nil, 0, missingValue(name, "")
			}
			globals = append(globals, args[i+1])
			i++
		}
		i++
	}
	return globals, i, nil
}

// commandPath walks the command and its subcommands from args[i]: the
// command, its path, and the index after it. help is the whole line to run
// instead (devenv help …, COMMAND help SUB, or args as they are for a
// command that parses its own flags, with cmd nil).
func commandPath(app *cli.App, args []string, i int) (cmd *cli.Command, path []string, next int, help []string, err error) {
	if args[i] == "help" {
		// devenv help [COMMAND [SUBCOMMAND]]: that command's --help.
		help, err = helpFor(app, args[0], nil, args[i+1:])
		return nil, nil, 0, help, err
	}
	cmd = app.Command(args[i])
	if cmd == nil {
		return nil, nil, 0, nil, unknownCommand(args[i], "", app.Commands)
	}
	if cmd.SkipFlagParsing {
		return nil, nil, 0, args, nil
	}
	path = []string{args[i]}
	i++
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		if args[i] == "help" && len(cmd.Subcommands) > 0 {
			// devenv ports help check: the subcommand's help.
			help, err = helpFor(app, args[0], path, args[i+1:])
			return nil, nil, 0, help, err
		}
		sub := cmd.Command(args[i])
		if sub == nil {
			if len(cmd.Subcommands) > 0 && !cmd.Args {
				// ports chek: a subcommand mistyped, not an argument.
				return nil, nil, 0, nil, unknownCommand(args[i], strings.Join(path, " "), cmd.Subcommands)
			}
			break
		}
		cmd = sub
		path = append(path, args[i])
		i++
	}
	return cmd, path, i, nil, nil
}

// sortedFlags are a command's arguments sorted: global flags (to go before
// the command), its own flags with their values, positional arguments,
// and the names of its flags used.
type sortedFlags struct{ globals, flags, positional, used []string }

func sortFlags(args []string, globalFlags, ownFlags map[string]bool, command string) (sortedFlags, error) {
	var s sortedFlags
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			s.positional = append(s.positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			s.positional = append(s.positional, a)
			continue
		}
		name, _, hasValue := strings.Cut(a, "=")
		if takesValue, global := globalFlags[name]; global && !hasOwn(ownFlags, name) {
			s.globals = append(s.globals, a)
			if takesValue && !hasValue {
				if i+1 >= len(args) {
					return s, missingValue(name, command)
				}
				s.globals = append(s.globals, args[i+1])
				i++
			}
			continue
		}
		s.flags = append(s.flags, a)
		s.used = append(s.used, name)
		if ownFlags[name] && !hasValue {
			if i+1 >= len(args) {
				return s, missingValue(name, command)
			}
			s.flags = append(s.flags, args[i+1])
			i++
		}
	}
	return s, nil
}

// helpFor is the line that shows the help of the command path names
// (after parent): the leading words that name a command, then its
// subcommands; the rest is ignored, so help never runs anything. An
// unknown topic is an unknown command.
func helpFor(app *cli.App, argv0 string, parent, words []string) ([]string, error) {
	path := slices.Clone(parent)
	var cmd *cli.Command
	if len(parent) > 0 {
		cmd = app.Command(parent[0])
		for _, p := range parent[1:] {
			cmd = cmd.Command(p)
		}
	}
	for _, w := range words {
		if strings.HasPrefix(w, "-") || (w == "help" && cmd == nil && len(path) == 0) {
			break // devenv help help: the help of help, which is devenv's
		}
		var next *cli.Command
		var among []*cli.Command
		if cmd == nil {
			next, among = app.Command(w), app.Commands
		} else {
			next, among = cmd.Command(w), cmd.Subcommands
		}
		if next == nil || next.Hidden {
			if cmd == nil || len(cmd.Subcommands) > 0 {
				return nil, unknownCommand(w, strings.Join(path, " "), among)
			}
			break // a command's argument: its help all the same
		}
		cmd, path = next, append(path, w)
	}
	return append(append([]string{argv0}, path...), "--help"), nil
}

// unknownCommand is a command (or, under parent, a subcommand) that does
// not exist, with the one most likely meant.
func unknownCommand(name, parent string, cmds []*cli.Command) error {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	what, help := "command", "devenv --help"
	if parent != "" {
		what, help = parent+" subcommand", "devenv "+parent+" --help"
	}
	if s := suggest.Closest(name, names); s != "" {
		return usagef("unknown %s %q; did you mean %q? (see %s)", what, name, s, help)
	}
	return usagef("unknown %s %q (see %s)", what, name, help)
}

// versionRequest is what --version and -v before the command become: a
// hidden command that prints devenv's version without asking the engine.
const versionRequest = "__version"

// missingValue is a flag given last, without the value it takes.
func missingValue(flag, command string) error {
	if command != "" {
		return usagef("%s: flag %s needs a value", command, flag)
	}
	return usagef("flag %s needs a value", flag)
}

// hasOwnHelp says the command has a flag -h of its own (none does today;
// compose's have none either).
func hasOwnHelp(cmd *cli.Command) bool {
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), "h") {
			return true
		}
	}
	return false
}

// commandLineCommands take a command line after their first argument
// (exec SERVICE CMD...): flags after it are the command's, not devenv's.
var commandLineCommands = map[string]bool{"exec": true, "run": true}

// splitCommandLine splits exec's and run's arguments into devenv's flags
// (short ones written together spelled out) and what begins at the first
// argument that is neither a flag nor a flag's value (after a "--").
func splitCommandLine(args []string, global, own map[string]bool) (flags, tail []string) {
	for j := 0; j < len(args); j++ {
		a := args[j]
		if a == "--" {
			return flags, args[j+1:]
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return flags, args[j:]
		}
		spelled := splitShort([]string{a}, own)
		flags = append(flags, spelled...)
		name, _, hasValue := strings.Cut(spelled[len(spelled)-1], "=")
		takesValue, ok := own[name]
		if !ok {
			takesValue = global[name]
		}
		if takesValue && !hasValue && (len(spelled) > 1 || a == name) && j+1 < len(args) {
			flags = append(flags, args[j+1])
			j++
		}
	}
	return flags, nil
}

func hasOwn(own map[string]bool, name string) bool {
	_, ok := own[name]
	return ok
}

// splitShort spells out short flags written together, as pflag (and so
// compose) takes them: "-fsv" is "-f -s -v" when all are the command's
// switches, "-n5" is "-n 5" when -n takes a value. A "--" ends the flags.
func splitShort(args []string, own map[string]bool) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' || strings.Contains(a, "=") {
			out = append(out, a)
			continue
		}
		first := a[:2]
		takesValue, known := own[first]
		switch {
		case known && takesValue:
			out = append(out, first, a[2:])
		case known && allSwitches(a[1:], own):
			for _, c := range a[1:] {
				out = append(out, "-"+string(c))
			}
		case known && allSwitches(a[1:len(a)-1], own) && own["-"+a[len(a)-1:]]:
			// -Tu root: switches, then one that takes the next argument.
			for _, c := range a[1:] {
				out = append(out, "-"+string(c))
			}
		default:
			out = append(out, a)
		}
	}
	return out
}

func allSwitches(letters string, own map[string]bool) bool {
	for _, c := range letters {
		takesValue, known := own["-"+string(c)]
		if !known || takesValue {
			return false
		}
	}
	return true
}
