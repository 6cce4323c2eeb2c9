package main

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// composeCLI is every command and flag of the reference docker compose
// (scripts/compose-cli writes it from compose's --help). devenv accepts
// each with compose's meaning or refuses it in one line, so a compose
// user's hands never meet "flag provided but not defined".
//
//go:embed compose-cli.txt
var composeCLI string

// composeEntry is one line of compose-cli.txt: a command ("" Long), or one
// of its flags; Command "*" is a global flag.
type composeEntry struct {
	Command, Short, Long, Type string
}

func composeEntries() []composeEntry {
	var out []composeEntry
	for _, line := range strings.Split(composeCLI, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(line, "#"):
		case len(f) == 1:
			out = append(out, composeEntry{Command: f[0]})
		case len(f) == 3:
			out = append(out, composeEntry{Command: f[0], Long: strings.TrimPrefix(f[1], "--"), Type: f[2]})
		case len(f) == 4:
			out = append(out, composeEntry{Command: f[0], Short: strings.TrimPrefix(f[1], "-"), Long: strings.TrimPrefix(f[2], "--"), Type: f[3]})
		}
	}
	return out
}

// refusals say why devenv does not take a compose command or flag, and
// what to do instead; keys are "COMMAND" or "COMMAND --FLAG" ("* --FLAG"
// for a global flag). A flag without its own line gets flagRefusal.
var refusals = map[string]string{
	"attach":  "devenv does not attach to containers; follow their output with devenv logs -f SERVICE",
	"commit":  "devenv does not make images from containers; use docker commit CONTAINER",
	"export":  "devenv does not export containers; use docker export CONTAINER",
	"publish": "devenv does not publish compose applications",
	"push":    "devenv does not push images; use docker push",
	"scale":   "devenv runs one container per service",
	"watch":   "devenv does not watch build contexts; devenv up --build rebuilds the images (the engine's cache keeps unchanged steps)",

	"* --all-resources":              "devenv creates the networks and volumes the services use",
	"* --compatibility":              "devenv names containers as compose v2 does",
	"* --dry-run":                    "only devenv " + dryRunCommands + " have a dry run (they print the plan)",
	"config --no-normalize":          "devenv prints the model as it runs it; --no-interpolate prints the file as written",
	"config --no-path-resolution":    "devenv prints the model as it runs it; --no-interpolate prints the file as written",
	"config --no-consistency":        "devenv prints the model as it runs it, checked; --no-interpolate prints the file as written",
	"config --no-env-resolution":     "devenv prints the model as it runs it; --no-interpolate prints the file as written",
	"config --variables":             "devenv config --no-interpolate shows each ${VARIABLE} as the file writes it",
	"config --resolve-image-digests": "devenv does not ask registries for digests; write image@sha256:... in the file",
	"config --lock-image-digests":    "devenv does not ask registries for digests; write image@sha256:... in the file",
	"config --models":                "devenv does not run compose's models (AI models)",
	"create --scale":                 "devenv runs one container per service",
	"build --builder":                "devenv builds with the engine's classic builder; buildx builders are docker buildx's",
	"build --check":                  "devenv has no build checks (BuildKit's); docker buildx build --check runs them",
	"build --memory":                 "devenv's builds take the engine's default memory limit",
	"build --print":                  "devenv has no bake definition to print; devenv config shows the build sections",
	"build --provenance":             "provenance attestations are BuildKit's; devenv builds with the classic builder",
	"build --push":                   "devenv does not push images; use docker push",
	"build --sbom":                   "SBOM attestations are BuildKit's; devenv builds with the classic builder",
	"build --ssh":                    "ssh forwarding is BuildKit's; devenv builds with the classic builder",
	"cp --all":                       "devenv cp copies to and from the service's own container, never a one-off's",
	"bridge":                         "devenv does not convert compose files to Kubernetes or Helm; docker compose bridge does",

	"up --watch":                "devenv does not watch build contexts",
	"up --scale":                "devenv runs one container per service",
	"up --always-recreate-deps": "use devenv up --force-recreate",
	"up --renew-anon-volumes":   "devenv keeps anonymous volumes on recreate; devenv down -v then up renews them",
}

// flagRefusal is the line for a flag without its own.
func flagRefusal(cmd, flag string) string {
	if r, ok := refusals[cmd+" --"+flag]; ok {
		return r
	}
	if r, ok := refusals["* --"+flag]; ok {
		return r
	}
	return fmt.Sprintf("devenv %s does not have docker compose's --%s", cmd, flag)
}

// addComposeParity gives devenv every compose command and flag it lacks as
// a hidden one that refuses, with its reason, exit 2.
func addComposeParity(app *cli.App) {
	entries := composeEntries()
	// Commands compose keeps out of its --help (bridge) are refused too.
	for key := range refusals {
		if !strings.Contains(key, " ") && !slices.ContainsFunc(entries, func(e composeEntry) bool { return e.Command == key }) {
			entries = append(entries, composeEntry{Command: key})
		}
	}
	for _, e := range entries {
		if e.Long != "" || app.Command(e.Command) != nil {
			continue
		}
		reason := refusals[e.Command]
		if reason == "" {
			reason = "devenv does not have this docker compose command"
		}
		app.Commands = append(app.Commands, &cli.Command{
			Name: e.Command, Hidden: true, SkipFlagParsing: true,
			Action: func(*cli.Context) error { return usagef("%s: %s", e.Command, reason) },
		})
	}
	refused := map[*cli.Command][]string{}
	for _, e := range entries {
		if e.Long == "" {
			continue
		}
		if e.Command == "*" {
			if f := refusedFlag(app.Flags, e); f != nil {
				app.Flags = append(app.Flags, f)
				refused[nil] = append(refused[nil], e.Long)
			}
			continue
		}
		cmd := app.Command(e.Command)
		if cmd == nil || cmd.SkipFlagParsing {
			continue
		}
		if f := refusedFlag(append(slices.Clone(cmd.Flags), app.Flags...), e); f != nil {
			cmd.Flags = append(cmd.Flags, f)
			refused[cmd] = append(refused[cmd], e.Long)
		}
	}
	for cmd, names := range refused {
		if cmd == nil {
			before := app.Before
			app.Before = func(c *cli.Context) error {
				if err := refuseSet(c, "", names); err != nil {
					return err
				}
				if before != nil {
					return before(c)
				}
				return nil
			}
			continue
		}
		before := cmd.Before
		cmd.Before = func(c *cli.Context) error {
			if err := refuseSet(c, cmd.Name, names); err != nil {
				return err
			}
			if before != nil {
				return before(c)
			}
			return nil
		}
	}
}

func refuseSet(c *cli.Context, cmd string, names []string) error {
	for _, n := range names {
		if c.IsSet(n) {
			if cmd == "" {
				return usagef("--%s: %s", n, flagRefusal("*", n))
			}
			return usagef("%s --%s: %s", cmd, n, flagRefusal(cmd, n))
		}
	}
	return nil
}

// refusedFlag is a hidden flag for a compose flag that none of have names;
// nil when devenv has it. A short name devenv uses otherwise is left off.
func refusedFlag(have []cli.Flag, e composeEntry) cli.Flag {
	taken := map[string]bool{}
	for _, f := range have {
		for _, n := range f.Names() {
			taken[n] = true
		}
	}
	if taken[e.Long] {
		return nil
	}
	var aliases []string
	if e.Short != "" && !taken[e.Short] {
		aliases = []string{e.Short}
	}
	switch e.Type {
	case "bool":
		return &cli.BoolFlag{Name: e.Long, Aliases: aliases, Hidden: true}
	case "stringArray", "list":
		return &cli.StringSliceFlag{Name: e.Long, Aliases: aliases, Hidden: true}
	}
	return &cli.StringFlag{Name: e.Long, Aliases: aliases, Hidden: true}
}

// parityTable is the parity table (docs/compose-parity.md) of compose commands and flags and what
// devenv does with each.
func parityTable(app *cli.App) string {
	var b strings.Builder
	b.WriteString("| docker compose | devenv |\n|---|---|\n")
	for _, e := range composeEntries() {
		name := e.Command
		if e.Long != "" {
			name += " --" + e.Long
		}
		if e.Command == "*" {
			name = "--" + e.Long + " (global)"
		}
		status := "supported"
		switch {
		case e.Long == "":
			if c := app.Command(e.Command); c == nil || c.Hidden {
				status = "refused: " + refusals[e.Command]
			}
		case e.Command == "*":
			if isHidden(app.Flags, e.Long) {
				status = "refused: " + flagRefusal("*", e.Long)
			} else if e.Long == "dry-run" {
				status = "supported with " + dryRunCommands + " (they print the plan); refused with the other commands"
			}
		default:
			c := app.Command(e.Command)
			if c == nil || c.Hidden {
				continue // the command's line says it
			}
			// A flag the command lacks is taken as a global one (compose
			// lists its global --dry-run under every command).
			if isHidden(c.Flags, e.Long) || (!hasFlag(c.Flags, e.Long) && isHidden(app.Flags, e.Long)) {
				status = "refused: " + flagRefusal(e.Command, e.Long)
			} else if why, refused := refusedWhenRun(e.Command, e.Long); refused {
				status = "refused: " + why
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", name, status)
	}
	return b.String()
}

// refusedWhenRun are the flags devenv knows but refuses when they are used
// (a value only, or only with some commands): the table says so.
func refusedWhenRun(command, flag string) (string, bool) {
	switch {
	case flag == "dry-run" && !hasDryRun(command):
		return refusals["* --dry-run"], true
	case command == "up" && flag == "menu":
		return "devenv has no navigation menu (--menu=false is accepted); devenv logs -f, ps and stop do what it offers", true
	}
	return "", false
}

func hasFlag(flags []cli.Flag, name string) bool {
	return slices.ContainsFunc(flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) })
}

func isHidden(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			if vf, ok := f.(cli.VisibleFlag); ok {
				return !vf.IsVisible()
			}
		}
	}
	return false
}
