package main

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// cpOptions are cp's flags, source and destination.
type cpOptions struct {
	Src, Dst            string
	Archive, FollowLink bool
	Index               int
}

func newCpCmd(a *app) *cli.Command {
	o := &cpOptions{}
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files between a service's container and this machine",
		ArgsUsage: "SERVICE:SRC DEST | SRC SERVICE:DEST",
		UsageText: "devenv cp postgres:/var/log/postgresql ./pglogs\n   devenv cp ./seed.sql postgres:/tmp/\n   devenv cp postgres:/etc/postgresql - | tar t   # a tar stream",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "keep files' user and group IDs", Destination: &o.Archive},
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "copy what a symlink source points to", Destination: &o.FollowLink},
			indexFlag(&o.Index),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("cp: need a source and a destination, one of them SERVICE:PATH")
			}
			o.Src, o.Dst = c.Args().Get(0), c.Args().Get(1)
			return runCp(c.Context, a, o)
		},
	}
}

// options are the core's copy options: which side is the container's.
func (o *cpOptions) options(a *app) (orchestrator.CopyOptions, error) {
	opts := orchestrator.CopyOptions{Archive: o.Archive, FollowLink: o.FollowLink}
	if svc, p, ok := strings.Cut(o.Src, ":"); ok && !strings.Contains(svc, "/") {
		opts.Service, opts.ContainerPath, opts.HostPath = svc, p, o.Dst
	} else if svc, p, ok := strings.Cut(o.Dst, ":"); ok && !strings.Contains(svc, "/") {
		opts.Service, opts.ContainerPath, opts.HostPath, opts.ToContainer = svc, p, o.Src, true
	} else {
		return opts, usagef("cp: one of %q and %q must be SERVICE:PATH", o.Src, o.Dst)
	}
	if !strings.HasPrefix(opts.ContainerPath, "/") {
		opts.ContainerPath = "/" + opts.ContainerPath
	}
	switch {
	case opts.HostPath == "-" && opts.ToContainer:
		opts.In = a.stdin
	case opts.HostPath == "-":
		opts.Out = a.rawStdout
	case !filepath.IsAbs(opts.HostPath):
		opts.HostPath = filepath.Join(a.dir, opts.HostPath)
	}
	return opts, nil
}

func runCp(ctx context.Context, a *app, o *cpOptions) error {
	if err := checkIndex("cp", o.Index); err != nil {
		return err
	}
	opts, err := o.options(a)
	if err != nil {
		return err
	}
	p, orch, err := a.readOnlyProject(ctx)
	if err != nil {
		return err
	}
	return orch.Copy(ctx, p, opts)
}
