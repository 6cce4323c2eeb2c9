package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
	"github.com/urfave/cli/v2"
)

// openOptions are open's flag and service.
type openOptions struct {
	Service string
	Print   bool
}

func newOpenCmd(a *app) *cli.Command {
	o := &openOptions{}
	return &cli.Command{
		Name:      "open",
		Usage:     "open a service's name (https://SERVICE.PROJECT.localhost) in the browser; without a service, the project's",
		ArgsUsage: "[SERVICE]",
		UsageText: "devenv open\n   devenv open backend\n   devenv open --print frontend",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "print", Usage: "print the URL instead of opening it", Destination: &o.Print}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("open: name one service")
			}
			o.Service = c.Args().First()
			return runOpen(c.Context, a, o)
		},
	}
}

func runOpen(ctx context.Context, a *app, o *openOptions) error {
	p, err := a.projectWith(ctx, loading{Fast: true})
	if err != nil {
		return err
	}
	if o.Service != "" {
		if err := p.CheckNames([]string{o.Service}); err != nil {
			return err
		}
	}
	store, err := a.registryStore()
	if err != nil {
		return err
	}
	reg, err := store.Load()
	if err != nil {
		return err
	}
	// This directory's entry, on whichever engine (a remote engine's ports
	// are forwarded here, and named too).
	var proj *registry.Project
	for _, rp := range reg.Projects {
		if rp.Name == p.Name() && (proj == nil || rp.Dir == p.Dir()) {
			proj = rp
		}
	}
	url := proj.MainURL(reg.ProxyPort())
	if o.Service != "" {
		url = firstOf(proj.URLs(reg.ProxyPort())[o.Service])
	}
	if url == "" {
		what := "project " + p.Name() + " has no name yet"
		if o.Service != "" {
			what = o.Service + " has no name"
		}
		return &compose.ConfigError{File: p.MainFile(), Msg: what + ": names go to HTTP services (a host service with a port, a container with an HTTP role, an http:// health or x-devenv.http: true), and answer once devenv up has run the proxy"}
	}
	if o.Print {
		fmt.Fprintln(a.stdout, url)
		return nil
	}
	a.openURL(ctx, url)
	return nil
}

// openURL opens url in the browser; where none can be opened (a server, a
// container) it says so and prints the URL, which is the answer then.
func (a *app) openURL(ctx context.Context, url string) {
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	cmd := exec.CommandContext(ctx, opener, url)
	err := cmd.Start()
	if err == nil {
		// An opener that fails does so at once (no browser, no display);
		// one still running after a while has a browser to talk to.
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(3 * time.Second):
		}
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "devenv: could not open a browser (%s: %v); the URL is:\n", opener, err)
		fmt.Fprintln(a.stdout, url)
	}
}
