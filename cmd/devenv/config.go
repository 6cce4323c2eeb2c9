package main

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/suggest"
	"github.com/urfave/cli/v2"
)

// configOptions are config's flags and services.
type configOptions struct {
	givenFlags
	Args          []string
	Format        string
	Quiet         bool
	Services      bool
	Volumes       bool
	Images        bool
	Profiles      bool
	Networks      bool
	Environment   bool
	Hash          string
	Output        string
	NoInterpolate bool
}

func newConfigCmd(a *app) *cli.Command {
	o := &configOptions{}
	return &cli.Command{
		Name:      "config",
		Usage:     "print the resolved compose model, with registry port assignments applied",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv config\n   devenv config --format json\n   devenv config postgres",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "yaml", Usage: "yaml or json", Destination: &o.Format},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only validate the configuration, print nothing", Destination: &o.Quiet},
			&cli.BoolFlag{Name: "services", Usage: "print the service names, one per line", Destination: &o.Services},
			&cli.BoolFlag{Name: "volumes", Usage: "print the volume names, one per line", Destination: &o.Volumes},
			&cli.BoolFlag{Name: "images", Usage: "print the image names, one per line", Destination: &o.Images},
			&cli.BoolFlag{Name: "profiles", Usage: "print the profile names, one per line", Destination: &o.Profiles},
			&cli.BoolFlag{Name: "networks", Usage: "print the network names, one per line", Destination: &o.Networks},
			&cli.BoolFlag{Name: "environment", Usage: "print the environment used for interpolation, KEY=VALUE per line", Destination: &o.Environment},
			&cli.StringFlag{Name: "hash", Usage: `print "SERVICE HASH" for the named services (comma-separated, or "*")`, Destination: &o.Hash},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file instead of stdout", Destination: &o.Output},
			&cli.BoolFlag{Name: "no-interpolate", Usage: "print ${VAR} as written, without the registry's ports", Destination: &o.NoInterpolate},
		},
		Action: func(c *cli.Context) error {
			o.Args, o.isSet = c.Args().Slice(), c.IsSet
			return runConfig(c.Context, a, o)
		},
	}
}

func runConfig(ctx context.Context, a *app, o *configOptions) error {
	format, err := checkFormat(o.Format, "yaml", "json")
	if err != nil {
		return err
	}
	if o.NoInterpolate && len(o.Args) > 0 {
		return usagef("config --no-interpolate prints the files as written, all of them; leave out %s", strings.Join(o.Args, " "))
	}
	if o.NoInterpolate {
		out, err := compose.RenderRaw(ctx, a.loadOptions(loading{}), format)
		if err != nil || o.Quiet {
			return err
		}
		if o.Output != "" {
			return writeNewFile(o.Output, out)
		}
		_, err = a.stdout.Write(out)
		return err
	}
	p, orch, err := a.projectOrch(ctx)
	if err != nil {
		return err
	}
	if len(o.Args) > 0 {
		// config SERVICE...: those services and their dependencies.
		if p, err = p.Only(o.Args); err != nil {
			return err
		}
	}
	var out []byte
	if lines, asked, err := o.lines(p); asked {
		if err != nil {
			return err
		}
		out = []byte(lines)
	} else {
		assigned, err := orch.AssignedPorts(ctx, p)
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
	case o.Quiet:
		return nil
	case o.Output != "":
		return writeNewFile(o.Output, out)
	}
	_, err = a.stdout.Write(out)
	return err
}

// lines answers config's listing flags (--services, --volumes, --images,
// --profiles, --networks, --environment, --hash) as compose prints them;
// asked is false when none was given.
func (o *configOptions) lines(p *compose.Project) (string, bool, error) {
	var lines []string
	switch {
	case o.Services:
		lines = p.Model.ServiceNames()
	case o.Volumes:
		lines = p.Model.VolumeNames()
	case o.Networks:
		lines = p.Model.NetworkNames()
	case o.Environment:
		for k, v := range p.Model.Environment {
			lines = append(lines, k+"="+v)
		}
		slices.Sort(lines)
	case o.Images:
		for _, name := range p.Model.ServiceNames() {
			if img := p.Model.Services[name].Image; img != "" {
				lines = append(lines, img)
			}
		}
	case o.Profiles:
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
	case o.given("hash"):
		names := strings.Split(o.Hash, ",")
		if o.Hash == "*" {
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
