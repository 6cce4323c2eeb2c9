package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/process"
	"github.com/devenv-dev/devenv/proxy"
	"github.com/urfave/cli/v2"
)

func newProxyCmd(a *app) *cli.Command {
	return &cli.Command{
		Name:      "proxy",
		Usage:     "the HTTPS proxy behind https://SERVICE.PROJECT.localhost names",
		UsageText: "devenv proxy status\n   devenv proxy trust\n   devenv proxy logs -f",
		Subcommands: []*cli.Command{
			newProxyStartCmd(a), newProxyStatusCmd(a), newProxyStopCmd(a), newProxyLogsCmd(a),
			newProxyCACmd(a), newProxyTrustCmd(a, true), newProxyTrustCmd(a, false), newProxyInstallCmd(a), newProxyServeCmd(a),
		},
	}
}

// proxyControl is the proxy's control for this user: its registry, state
// directory and devenv itself to run.
func (a *app) proxyControl() (proxy.Control, error) {
	store, err := a.registryStore()
	if err != nil {
		return proxy.Control{}, err
	}
	dir, err := process.StateDir(a.env.get)
	if err != nil {
		return proxy.Control{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return proxy.Control{}, err
	}
	return proxy.Control{Store: store, State: dir, Command: []string{exe}}, nil
}

func newProxyStartCmd(a *app) *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start the proxy (devenv up starts it when a project has names)",
		UsageText: "devenv proxy start",
		Action: func(c *cli.Context) error {
			ctl, err := a.proxyControl()
			if err != nil {
				return err
			}
			st, err := ctl.Start(c.Context)
			if err != nil {
				return err
			}
			return writeProxyStatus(a, st, "table")
		},
	}
}

type proxyStatusOptions struct{ Format string }

func newProxyStatusCmd(a *app) *cli.Command {
	o := &proxyStatusOptions{}
	return &cli.Command{
		Name:      "status",
		Usage:     "whether the proxy runs, on which ports, and its CA; exit 1 when it does not run",
		UsageText: "devenv proxy status\n   devenv proxy status --format json",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json", Destination: &o.Format}},
		Action: func(c *cli.Context) error {
			format, err := checkFormat(o.Format, "table", "json")
			if err != nil {
				return err
			}
			ctl, err := a.proxyControl()
			if err != nil {
				return err
			}
			st := ctl.Status()
			if err := writeProxyStatus(a, st, format); err != nil {
				return err
			}
			if !st.Running {
				return exitWith(1, nil)
			}
			return nil
		},
	}
}

func writeProxyStatus(a *app, st proxy.Status, format string) error {
	if format == "json" {
		return json.NewEncoder(a.stdout).Encode(struct {
			Running bool   `json:"running"`
			PID     int    `json:"pid,omitempty"`
			HTTPS   int    `json:"https_port,omitempty"`
			HTTP    int    `json:"http_port,omitempty"`
			CA      string `json:"ca"`
			Log     string `json:"log"`
		}{st.Running, st.PID, st.Ports.HTTPS, st.Ports.HTTP, st.CA, st.Log})
	}
	if !st.Running {
		fmt.Fprintln(a.stdout, "proxy: not running (devenv proxy start, or devenv up of a project with names, starts it)")
	} else {
		fmt.Fprintf(a.stdout, "proxy: running (pid %d) since %s\n", st.PID, st.Since.Format(time.RFC3339))
	}
	if st.Ports.HTTPS > 0 {
		fmt.Fprintf(a.stdout, "https: 127.0.0.1:%d and [::1]:%d (names: %s)\n", st.Ports.HTTPS, st.Ports.HTTPS, proxy.URL("SERVICE.PROJECT.localhost", st.Ports.HTTPS))
		fmt.Fprintf(a.stdout, "http:  127.0.0.1:%d (redirects to https)\n", st.Ports.HTTP)
	}
	fmt.Fprintf(a.stdout, "ca:    %s\nlog:   %s\n", st.CA, st.Log)
	return nil
}

func newProxyStopCmd(a *app) *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop the proxy (names stay reserved; devenv up starts it again)",
		UsageText: "devenv proxy stop",
		Action: func(c *cli.Context) error {
			ctl, err := a.proxyControl()
			if err != nil {
				return err
			}
			stopped, err := ctl.Stop(c.Context)
			if err == nil && !stopped {
				fmt.Fprintln(a.stderr, "proxy: not running")
			}
			return err
		},
	}
}

type proxyLogsOptions struct {
	Follow bool
	Tail   string
}

func newProxyLogsCmd(a *app) *cli.Command {
	o := &proxyLogsOptions{}
	return &cli.Command{
		Name:      "logs",
		Usage:     "the proxy's log",
		UsageText: "devenv proxy logs\n   devenv proxy logs -f",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow the log", Destination: &o.Follow},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "lines from the end, or all", Destination: &o.Tail},
		},
		Action: func(c *cli.Context) error {
			ctl, err := a.proxyControl()
			if err != nil {
				return err
			}
			path := ctl.Status().Log
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("proxy: no log at %s yet: %w", path, proxy.ErrNotRunning)
			}
			return orchestrator.FollowFile(c.Context, path, o.Tail, o.Follow, a.stdout)
		},
	}
}

func newProxyCACmd(a *app) *cli.Command {
	return &cli.Command{
		Name:      "ca",
		Usage:     "print the path of devenv's CA certificate (made on first use) on the last line",
		UsageText: "devenv proxy ca\n   curl --cacert \"$(devenv proxy ca | tail -1)\" https://web.shop.localhost",
		Action: func(c *cli.Context) error {
			ctl, err := a.proxyControl()
			if err != nil {
				return err
			}
			ca, err := proxy.LoadCA(filepath.Join(ctl.Dir(), "ca"))
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, ca.CertPath)
			return nil
		},
	}
}
