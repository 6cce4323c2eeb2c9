package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/internal/suggest"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

func configCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "config",
		Usage:     "print the resolved compose model, with registry port assignments applied",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv config\n   devenv config --format json\n   devenv config postgres",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "yaml", Usage: "yaml or json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only validate the configuration, print nothing"},
			&cli.BoolFlag{Name: "services", Usage: "print the service names, one per line"},
			&cli.BoolFlag{Name: "volumes", Usage: "print the volume names, one per line"},
			&cli.BoolFlag{Name: "images", Usage: "print the image names, one per line"},
			&cli.BoolFlag{Name: "profiles", Usage: "print the profile names, one per line"},
			&cli.BoolFlag{Name: "networks", Usage: "print the network names, one per line"},
			&cli.BoolFlag{Name: "environment", Usage: "print the environment used for interpolation, KEY=VALUE per line"},
			&cli.StringFlag{Name: "hash", Usage: `print "SERVICE HASH" for the named services (comma-separated, or "*")`},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file instead of stdout"},
			&cli.BoolFlag{Name: "no-interpolate", Usage: "print ${VAR} as written, without the registry's ports"},
		},
		Action: func(c *cli.Context) error {
			format, err := formatFlag(c, "yaml", "json")
			if err != nil {
				return err
			}
			if c.Bool("no-interpolate") && c.NArg() > 0 {
				return usagef("config --no-interpolate prints the files as written, all of them; leave out %s", strings.Join(c.Args().Slice(), " "))
			}
			if c.Bool("no-interpolate") {
				out, err := compose.RenderRaw(c.Context, a.loadOptions(loading{}), format)
				if err != nil || c.Bool("quiet") {
					return err
				}
				if c.String("output") != "" {
					return writeNewFile(c.String("output"), out)
				}
				_, err = a.stdout.Write(out)
				return err
			}
			p, o, err := a.projectOrch(c.Context)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				// config SERVICE...: those services and their dependencies.
				if p, err = p.Only(c.Args().Slice()); err != nil {
					return err
				}
			}
			var out []byte
			if lines, asked, err := configLines(c, p); asked {
				if err != nil {
					return err
				}
				out = []byte(lines)
			} else {
				assigned, err := o.AssignedPorts(c.Context, p)
				if err != nil {
					return err
				}
				if out, err = p.Render(format, assigned); err != nil {
					return err
				}
				if format == "json" {
					out = append(out, '\n')
				}
			}
			switch {
			case c.Bool("quiet"):
				return nil
			case c.String("output") != "":
				return writeNewFile(c.String("output"), out)
			}
			_, err = a.stdout.Write(out)
			return err
		},
	}
}

func version() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			v += " (commit " + rev + dirty + ")"
		}
	}
	return v
}

func versionCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print devenv's version and the engine's version and negotiated API version",
		UsageText: "devenv version\n   devenv version --format json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "text or json"},
			&cli.BoolFlag{Name: "short", Usage: "print devenv's version number only"},
		},
		Action: func(c *cli.Context) error {
			format, err := formatFlag(c, "text", "json")
			if err != nil {
				return err
			}
			if c.Bool("short") {
				// The bare number, as compose's --short prints it.
				fmt.Fprintln(a.stdout, strings.TrimPrefix(strings.Fields(version())[0], "v"))
				return nil
			}
			info, engErr := a.engineInfo(c.Context)
			if format == "json" {
				row := map[string]any{"devenv": version(), "go": goVersion()}
				if engErr == nil {
					row["engine"] = info
				}
				b, _ := json.Marshal(row)
				fmt.Fprintln(a.stdout, string(b))
				return engErr
			}
			fmt.Fprintf(a.stdout, "devenv %s (%s)\n", version(), goVersion())
			if engErr != nil {
				return engErr
			}
			fmt.Fprintf(a.stdout, "engine %s, API %s, at %s (%s)\n", info.ServerVersion, info.APIVersion, info.Endpoint, info.How)
			return nil
		},
	}
}

// versionFlagCommand answers --version and -v before the command, as
// docker --version does: devenv's own version, no engine asked.
func versionFlagCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:   versionRequest,
		Usage:  "print devenv's version (devenv --version)",
		Hidden: true,
		Action: func(*cli.Context) error {
			fmt.Fprintf(a.stdout, "devenv version %s\n", strings.TrimPrefix(strings.Fields(version())[0], "v"))
			return nil
		},
	}
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}

func (a *app) engineInfo(ctx context.Context) (orchestrator.EngineInfo, error) {
	if a.local != nil {
		return a.local.Info(ctx)
	}
	e, err := a.dockerEngine()
	if err != nil {
		return orchestrator.EngineInfo{}, err
	}
	return e.Info(ctx)
}

// configLines answers config's listing flags (--services, --volumes,
// --images, --profiles, --hash) as compose prints them; asked is false
// when none was given.
func configLines(c *cli.Context, p *compose.Project) (string, bool, error) {
	var lines []string
	switch {
	case c.Bool("services"):
		lines = p.Model.ServiceNames()
	case c.Bool("volumes"):
		lines = p.Model.VolumeNames()
	case c.Bool("networks"):
		lines = p.Model.NetworkNames()
	case c.Bool("environment"):
		for k, v := range p.Model.Environment {
			lines = append(lines, k+"="+v)
		}
		slices.Sort(lines)
	case c.Bool("images"):
		for _, name := range p.Model.ServiceNames() {
			if img := p.Model.Services[name].Image; img != "" {
				lines = append(lines, img)
			}
		}
	case c.Bool("profiles"):
		seen := map[string]bool{}
		for _, svc := range p.Model.AllServices() {
			for _, pr := range svc.Profiles {
				if !seen[pr] {
					seen[pr] = true
					lines = append(lines, pr)
				}
			}
		}
		slices.Sort(lines)
	case c.IsSet("hash"):
		names := strings.Split(c.String("hash"), ",")
		if c.String("hash") == "*" {
			names = p.Model.ServiceNames()
		}
		for _, name := range names {
			svc, ok := p.Model.Services[name]
			if !ok {
				return "", true, &compose.UnknownServiceError{Service: name, File: p.MainFile(), Suggestion: suggest.Closest(name, p.AllServiceNames())}
			}
			h, err := compose.ServiceHash(svc)
			if err != nil {
				return "", true, err
			}
			lines = append(lines, name+" "+h)
		}
	default:
		return "", false, nil
	}
	if len(lines) == 0 {
		return "", true, nil
	}
	return strings.Join(lines, "\n") + "\n", true, nil
}

// writeNewFile writes data to path (0644, as compose does), refusing to
// write through a symlink.
func writeNewFile(path string, data []byte) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return usagef("config --output %s: is a symlink; devenv does not write through links", path)
	}
	return os.WriteFile(path, data, 0o644)
}
