package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/devenv-dev/devenv/compose"
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

type proxyServeOptions struct{ HTTPS, HTTP int }

// newProxyServeCmd is the proxy itself, as its supervisor runs it.
func newProxyServeCmd(a *app) *cli.Command {
	o := &proxyServeOptions{}
	return &cli.Command{
		Name:      "serve",
		Usage:     "run the proxy in the foreground (devenv proxy start runs it supervised)",
		UsageText: "devenv proxy serve --https-port 1443 --http-port 1080",
		Hidden:    true,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "https-port", Value: 443, Destination: &o.HTTPS},
			&cli.IntFlag{Name: "http-port", Value: 80, Destination: &o.HTTP},
		},
		Action: func(c *cli.Context) error { return runProxyServe(c.Context, a, o) },
	}
}

func runProxyServe(ctx context.Context, a *app, o *proxyServeOptions) error {
	ctl, err := a.proxyControl()
	if err != nil {
		return err
	}
	ca, err := proxy.LoadCA(filepath.Join(ctl.Dir(), "ca"))
	if err != nil {
		return err
	}
	secure, err := proxy.Listen(o.HTTPS)
	if err != nil {
		return fmt.Errorf("proxy: https port %d: %w", o.HTTPS, err)
	}
	plain, err := proxy.Listen(o.HTTP)
	if err != nil {
		closeAll(secure)
		return fmt.Errorf("proxy: http port %d: %w", o.HTTP, err)
	}
	routes := proxy.NewRoutes(ctl.Store.Path)
	go routes.Follow(ctx, 200*time.Millisecond)
	srv := proxy.NewServer(ca, routes.Table, o.HTTPS)
	srv.OwnPorts = []int{o.HTTPS, o.HTTP}
	srv.ErrorLog = log.New(a.stderr, "proxy: ", log.LstdFlags)
	srv.Down = func(r proxy.Route) (string, string) {
		if !r.HostService {
			return "", ""
		}
		state := "not running"
		if st, ok := ctl.State.Read(r.Project, r.Service); ok {
			state = st.Status
			if st.Status == "exited" || st.Status == "failed" {
				state = fmt.Sprintf("%s (exit code %d)", st.Status, st.ExitCode)
			}
		}
		return state, proxy.Tail(ctl.State.LogPath(r.Project, r.Service), 20)
	}
	srv.ErrorLog.Printf("serving https on %v, http on %v, routes from %s", addrs(secure), addrs(plain), ctl.Store.Path)
	err = srv.Serve(ctx, secure, plain)
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return nil
	}
	return err
}

func addrs(lns []net.Listener) []string {
	var out []string
	for _, ln := range lns {
		out = append(out, ln.Addr().String())
	}
	return out
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

func newProxyTrustCmd(a *app, add bool) *cli.Command {
	name, usage := "trust", "add devenv's CA to the system's trust store and to Chrome's and Firefox's (NSS, with certutil)"
	if !add {
		name, usage = "untrust", "remove devenv's CA from the stores trust added it to"
	}
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		UsageText: "devenv proxy " + name,
		Action: func(c *cli.Context) error {
			stores, err := a.trust(c.Context, add)
			if err != nil {
				return err
			}
			failed := 0
			for _, s := range stores {
				mark := "✔"
				if !s.Done {
					mark, failed = "✘", failed+1
				}
				fmt.Fprintf(a.stdout, "%s %s: %s\n", mark, s.Name, s.Detail)
			}
			if failed > 0 {
				return exitWith(1, nil)
			}
			return nil
		},
	}
}

// trust changes the stores of this user's CA. Under sudo, root acts for the
// user who ran it and only on the system's store: the user's CA is read
// (never made), and nothing in the user's home is written as root.
func (a *app) trust(ctx context.Context, add bool) ([]proxy.Store, error) {
	if sudoUser := a.env.get("SUDO_USER"); os.Geteuid() == 0 && sudoUser != "" && sudoUser != "root" {
		u, err := user.Lookup(sudoUser)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(u.HomeDir, ".local", "state", "devenv", "proxy", "ca")
		ca, err := proxy.ReadCA(dir)
		if err != nil {
			return nil, fmt.Errorf("%s's CA (%s): %w; run devenv proxy start as %s first", sudoUser, dir, err, sudoUser)
		}
		fmt.Fprintf(a.stderr, "under sudo: only the system's store; run devenv proxy %s as %s for Chrome's and Firefox's\n", map[bool]string{true: "trust", false: "untrust"}[add], sudoUser)
		return []proxy.Store{ca.TrustSystem(ctx, add)}, nil
	}
	ctl, err := a.proxyControl()
	if err != nil {
		return nil, err
	}
	ca, err := proxy.LoadCA(filepath.Join(ctl.Dir(), "ca"))
	if err != nil {
		return nil, err
	}
	return ca.Trust(ctx, a.env.get("HOME"), add), nil
}

func newProxyInstallCmd(a *app) *cli.Command {
	return &cli.Command{
		Name:      "install",
		Usage:     "let the proxy listen on 443 and 80 (Linux): prints the command, or runs it as root",
		UsageText: "devenv proxy install",
		Action:    func(c *cli.Context) error { return runProxyInstall(c.Context, a) },
	}
}

// runProxyInstall gives devenv the capability to listen on 443 and 80
// (setcap, as root), and, for a user whose devenv has it, releases the
// proxy's ports so its next start takes 443 and 80.
func runProxyInstall(ctx context.Context, a *app) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	setcap := []string{"setcap", "cap_net_bind_service=+ep", exe}
	if os.Geteuid() == 0 {
		if out, err := exec.CommandContext(ctx, setcap[0], setcap[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v %s", shellJoin(setcap), err, strings.TrimSpace(string(out)))
		}
		fmt.Fprintf(a.stdout, "✔ %s\n", shellJoin(setcap))
		if u := a.env.get("SUDO_USER"); u != "" && u != "root" {
			fmt.Fprintf(a.stdout, "now run devenv proxy install as %s (without sudo) to move the proxy to 443 and 80\n", u)
			return nil
		}
	} else if !proxy.CanListen(443) || !proxy.CanListen(80) {
		fmt.Fprintf(a.stdout, "run: sudo %s\nthen: devenv proxy install (again, to move the proxy to 443 and 80)\n", shellJoin(setcap))
		return nil
	}
	ctl, err := a.proxyControl()
	if err != nil {
		return err
	}
	reg, err := ctl.Store.Load()
	if err != nil {
		return err
	}
	if ports, ok := proxy.PortsOf(reg); ok && ports.HTTPS == 443 && ports.HTTP == 80 {
		fmt.Fprintln(a.stdout, "✔ the proxy is on 443 and 80 already")
		return nil
	}
	if _, err := ctl.Reset(ctx); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "✔ the proxy's ports were released; the next devenv up (or devenv proxy start) takes 443 and 80")
	return nil
}

// startProxy starts the proxy for a project with names; one that cannot
// start is said, and the stack comes up on its ports all the same.
func (a *app) startProxy(ctx context.Context) {
	if a.env.get("DEVENV_PROXY") == "off" {
		return
	}
	ctl, err := a.proxyControl()
	if err == nil {
		_, err = ctl.Start(ctx)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "warning: the names proxy did not start (the services answer on their ports): %v\n", err)
	}
}

// printNames says where the project's names answer, after up.
func (a *app) printNames(names []compose.Name) {
	if len(names) == 0 || a.progress == "quiet" || a.progress == "json" {
		return
	}
	ctl, err := a.proxyControl()
	if err != nil {
		return
	}
	st := ctl.Status()
	if !st.Running {
		return
	}
	fmt.Fprintln(a.stderr, "Names (devenv proxy trust makes browsers trust them):")
	tw := tabwriter.NewWriter(a.stderr, 0, 0, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", n.Service, proxy.URL(n.Host, st.Ports.HTTPS))
	}
	tw.Flush()
}

// caCert is devenv's CA certificate file, "" until the proxy made one.
func (a *app) caCert() string {
	dir, err := process.StateDir(a.env.get)
	if err != nil {
		return ""
	}
	path := filepath.Join(dir.Root, "proxy", "ca", proxy.CertFile)
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

// proxyFindings are doctor's checks of names: whether the proxy runs and
// where, which stores trust devenv's CA, and whether this machine's
// resolver answers *.localhost (devenv's own checks never need it).
func (a *app) proxyFindings(ctx context.Context) []orchestrator.Finding {
	var out []orchestrator.Finding
	add := func(level, msg, fix string) {
		out = append(out, orchestrator.Finding{Level: level, Check: "names", Message: msg, Fix: fix})
	}
	ctl, err := a.proxyControl()
	if err != nil {
		return nil
	}
	st := ctl.Status()
	switch {
	case st.Running:
		add("ok", fmt.Sprintf("proxy running (pid %d): https on 127.0.0.1:%d, http on 127.0.0.1:%d", st.PID, st.Ports.HTTPS, st.Ports.HTTP), "")
		if st.Ports.HTTPS != 443 && runtime.GOOS == "linux" {
			add("warning", fmt.Sprintf("names carry the port :%d because this user may not listen on 443", st.Ports.HTTPS), "devenv proxy install")
		}
	case st.Ports.HTTPS > 0:
		add("warning", "proxy not running: names do not answer", "devenv proxy start (devenv up starts it too)")
	default:
		add("ok", "proxy not started yet (devenv up starts it for a project with names)", "")
	}
	if _, err := os.Stat(st.CA); err == nil {
		if ca, err := proxy.LoadCA(filepath.Dir(st.CA)); err == nil {
			var trusted, not []string
			for _, s := range ca.Trusted(ctx, a.env.get("HOME")) {
				if s.Done {
					trusted = append(trusted, s.Name)
				} else {
					not = append(not, s.Name)
				}
			}
			if len(trusted) > 0 {
				add("ok", "devenv's CA is trusted by: "+strings.Join(trusted, ", "), "")
			}
			if len(not) > 0 {
				add("warning", "devenv's CA is not trusted by: "+strings.Join(not, ", "), "devenv proxy trust")
			}
		}
	}
	if _, err := exec.LookPath("getent"); err == nil {
		if exec.CommandContext(ctx, "getent", "hosts", "devenv.localhost").Run() != nil {
			add("warning", "this machine's resolver does not answer *.localhost names (browsers and curl resolve them by themselves; other tools may not)",
				"enable nss-myhostname (Debian: apt install libnss-myhostname) or systemd-resolved; devenv's own checks do not need it")
		} else {
			add("ok", "*.localhost names resolve through the system resolver", "")
		}
	}
	return out
}

// shellJoin quotes args for a shell where they need it.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, s := range args {
		if s == "" || strings.ContainsAny(s, " \t'\"$\\") {
			s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
		out[i] = s
	}
	return strings.Join(out, " ")
}
