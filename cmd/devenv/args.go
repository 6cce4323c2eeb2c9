package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// globalValueFlags are the global flags that take a value, by every name.
var globalValueFlags = map[string]string{
	"-f": "file", "--file": "file", "-p": "project-name", "--project-name": "project-name",
	"--profile": "profile", "--env-file": "env-file", "--project-directory": "project-directory",
	"--registry": "registry", "--progress": "progress",
}

// normalizeArgs lets global flags follow the command (`devenv up -f x.yml`)
// and command flags follow positional arguments (`devenv up db --no-wait`),
// as docker compose does: it moves global flags in front of the command and
// a command's flags in front of its arguments. A `--` ends flag handling.
func normalizeArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var globals, rest []string
	i := 1
	// Leading global flags stay where they are.
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		name, _, hasValue := strings.Cut(args[i], "=")
		globals = append(globals, args[i])
		if _, ok := globalValueFlags[name]; ok && !hasValue && i+1 < len(args) {
			globals = append(globals, args[i+1])
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	path := []string{args[i]}
	i++
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		sub := cmd.Command(args[i])
		if sub == nil {
			break
		}
		cmd = sub
		path = append(path, args[i])
		i++
	}
	valueFlags := map[string]bool{}
	ownFlags := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			dash := "--" + n
			if len(n) == 1 {
				dash = "-" + n
			}
			ownFlags[dash] = true
			if !isBool {
				valueFlags[dash] = true
			}
		}
	}
	var flags, positional []string
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name, _, hasValue := strings.Cut(a, "=")
		if _, global := globalValueFlags[name]; global && !ownFlags[name] {
			globals = append(globals, a)
			if !hasValue && i+1 < len(args) {
				globals = append(globals, args[i+1])
				i++
			}
			continue
		}
		flags = append(flags, a)
		if valueFlags[name] && !hasValue && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	out := append([]string{args[0]}, globals...)
	out = append(out, path...)
	out = append(out, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	_ = rest
	return out
}
