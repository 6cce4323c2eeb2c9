package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/devenv-dev/devenv/proxy"
	"github.com/urfave/cli/v2"
)

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
