package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// versionOptions are version's flags.
type versionOptions struct {
	Args   []string
	Format string
	Short  bool
}

func newVersionCmd(a *app) *cli.Command {
	o := &versionOptions{}
	return &cli.Command{
		Name:      "version",
		Usage:     "print devenv's version and the engine's version and negotiated API version",
		UsageText: "devenv version\n   devenv version --format json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "text or json", Destination: &o.Format},
			&cli.BoolFlag{Name: "short", Usage: "print devenv's version number only", Destination: &o.Short},
		},
		Action: func(c *cli.Context) error {
			o.Args = c.Args().Slice()
			return runVersion(c.Context, a, o)
		},
	}
}

func runVersion(ctx context.Context, a *app, o *versionOptions) error {
	format, err := checkFormat(o.Format, "text", "json")
	if err != nil {
		return err
	}
	if o.Short {
		// The bare number, as compose's --short prints it.
		fmt.Fprintln(a.stdout, strings.TrimPrefix(strings.Fields(version())[0], "v"))
		return nil
	}
	info, engErr := a.engineInfo(ctx)
	if format == "json" {
		row := map[string]any{"version": version(), "go": goVersion()} // "version" as compose names it
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
