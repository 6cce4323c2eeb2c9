package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/process"
	"github.com/devenv-dev/devenv/proxy"
)

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
	if len(names) == 0 {
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
	ctl.Reload() // the names up just wrote answer now, not at the next poll
	if a.progress == "quiet" || a.progress == "json" {
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
