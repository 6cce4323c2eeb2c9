package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/devenv-dev/devenv/dashboard"
	"github.com/devenv-dev/devenv/orchestrator/process"
	"github.com/devenv-dev/devenv/proxy"
	"github.com/urfave/cli/v2"
)

// uiOptions are ui's flags.
type uiOptions struct {
	Print    bool
	Listen   string
	ReadOnly bool
}

func newUICmd(a *app) *cli.Command {
	o := &uiOptions{}
	return &cli.Command{
		Name:  "ui",
		Usage: "the live dashboard of every project, service, port, name and log, with the CLI's actions",
		UsageText: "devenv ui                                # opens https://devenv.localhost\n" +
			"   devenv ui --print                        # prints its URL\n" +
			"   devenv ui --listen 127.0.0.1:7780 --read-only",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "print", Usage: "print the dashboard's URL instead of opening it", Destination: &o.Print},
			&cli.StringFlag{Name: "listen", Usage: "serve the dashboard at ADDR (a loopback address:port) in the foreground until interrupted", Destination: &o.Listen},
			&cli.BoolFlag{Name: "read-only", Usage: "serve no actions (with --listen)", Destination: &o.ReadOnly},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("ui takes no arguments: %s", c.Args().First())
			}
			return runUI(c.Context, a, o)
		},
	}
}

func runUI(ctx context.Context, a *app, o *uiOptions) error {
	if o.Listen != "" {
		return a.serveUI(ctx, o)
	}
	if o.ReadOnly {
		return usagef("ui --read-only: serve a read-only dashboard with --listen ADDR (the proxy's has the actions)")
	}
	url, err := a.uiURL(ctx)
	if err != nil {
		return err
	}
	if url, err = a.signIn(url); err != nil {
		return err
	}
	if o.Print {
		fmt.Fprintln(a.stdout, url)
		return nil
	}
	a.openPrivately(ctx, url)
	return nil
}

// openPrivately opens a sign-in link in the browser through a file only
// this user can read (0600), which sends the browser on: the link never
// stands on an opener's command line, which other users can read.
func (a *app) openPrivately(ctx context.Context, url string) {
	dir, err := a.uiDir()
	if err != nil {
		a.openURL(ctx, url)
		return
	}
	page, err := dashboard.SignInPage(dir, url)
	if err != nil {
		fmt.Fprintf(a.stderr, "devenv: %v; the link is:\n", err)
		fmt.Fprintln(a.stdout, url)
		return
	}
	a.openURL(ctx, "file://"+page)
}

// uiURL makes sure a dashboard runs and says where: the proxy's
// https://devenv.localhost, or where names are off, devenv ui's own
// server on the registry's ui port.
func (a *app) uiURL(ctx context.Context) (string, error) {
	ctl, err := a.proxyControl()
	if err != nil {
		return "", err
	}
	if a.env.get("DEVENV_PROXY") != "off" {
		st, err := ctl.Start(ctx)
		if err != nil {
			return "", err
		}
		url := proxy.URL(proxy.DashboardHost, st.Ports.HTTPS) + "/"
		if !proxyServesUI(ctx, ctl, st.Ports.HTTPS) {
			// A proxy of a devenv from before the dashboard: started anew.
			if _, err := ctl.Stop(ctx); err != nil {
				return "", err
			}
			if _, err := ctl.Start(ctx); err != nil {
				return "", err
			}
		}
		return url, nil
	}
	port, err := proxy.ReserveUI(ctx, ctl.Store)
	if err != nil {
		return "", err
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	serve := []string{exe, "--registry", ctl.Store.Path, "ui", "--listen", addr, "--print"}
	spec := process.Spec{Project: proxy.Project, Name: proxy.UIServer, Args: serve, Dir: ctl.Dir(), Restart: "always",
		Env: []string{"XDG_STATE_HOME=" + filepath.Dir(ctl.State.Root), cliEnv + "=1"}, Grace: 5 * time.Second, Hash: fmt.Sprint(serve[1:])}
	if err := os.MkdirAll(ctl.Dir(), 0o700); err != nil {
		return "", fmt.Errorf("ui: %w", err)
	}
	if _, _, err := ctl.State.Start(ctx, spec); err != nil {
		return "", fmt.Errorf("ui: %w", err)
	}
	url := "http://" + addr + "/"
	token, err := dashboard.LoadToken(uiDirOf(ctl.State))
	if err != nil {
		return "", err
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// devenv's own server, which proves it has the user's token: a
		// sign-in code goes to no other that took the port.
		if uiIsOurs(ctx, url, token) {
			return url, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			log := ctl.State.LogPath(proxy.Project, proxy.UIServer)
			return "", fmt.Errorf("ui: not answering on %s; its log %s says:\n%s", addr, log, process.Tail(log, 10))
		}
	}
}

// uiDirOf is where the dashboard keeps the user's token, its sign-in codes
// and pages: one place, whichever devenv (the proxy, ui, ui --listen)
// asks.
func uiDirOf(state process.Dir) string { return filepath.Join(state.Root, "ui") }

// uiDir is uiDirOf this user's state directory.
func (a *app) uiDir() (string, error) {
	state, err := process.StateDir(a.env.get)
	if err != nil {
		return "", err
	}
	return uiDirOf(state), nil
}

// signIn is url with a one-time sign-in code: the browser that opens it
// gets the dashboard's cookie (the URL never holds the token itself).
func (a *app) signIn(url string) (string, error) {
	dir, err := a.uiDir()
	if err != nil {
		return "", err
	}
	code, err := dashboard.IssueCode(dir)
	if err != nil {
		return "", err
	}
	return url + "login?code=" + code, nil
}

// proxyServesUI says whether the running proxy serves the dashboard: a
// proxy from before it answers its assets 404 (one whose dashboard failed
// answers 503, and a restart would not mend it).
func proxyServesUI(ctx context.Context, ctl proxy.Control, port int) bool {
	ca, err := proxy.LoadCA(filepath.Join(ctl.Dir(), "ca"))
	if err != nil {
		return false
	}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, proxy.URL(proxy.DashboardHost, port)+"/assets/style.css", nil)
	res, err := c.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode != http.StatusNotFound
}

func uiIsOurs(ctx context.Context, url, token string) bool {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := hex.EncodeToString(b)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"whoami?nonce="+nonce, nil)
	c := &http.Client{Timeout: 500 * time.Millisecond}
	res, err := c.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var got struct{ Proof string }
	if res.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&got) != nil {
		return false
	}
	return hmac.Equal([]byte(got.Proof), []byte(dashboard.Derive(token, "whoami:"+nonce)))
}

// serveUI is ui --listen: the dashboard on a loopback address, in the
// foreground until interrupted.
func (a *app) serveUI(ctx context.Context, o *uiOptions) error {
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return usagef("ui --listen %q: use a loopback ADDR:PORT such as 127.0.0.1:7780", o.Listen)
	}
	if !loopback(ctx, host) {
		return usagef("ui --listen %q: the dashboard listens on loopback only (127.0.0.1, ::1 or localhost)", o.Listen)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("ui --listen %s: %w", o.Listen, err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	own := net.JoinHostPort(host, port)
	srv, err := a.dashboardServer(ctx, []string{own}, "http://"+own, o.ReadOnly)
	if err != nil {
		return err
	}
	url, err := a.signIn("http://" + own + "/")
	if err != nil {
		return err
	}
	if o.Print {
		fmt.Fprintln(a.stdout, url)
	} else {
		fmt.Fprintf(a.stderr, "devenv ui: serving http://%s/ until interrupted\n", own)
		a.openPrivately(ctx, url)
	}
	if f, ok := a.stdout.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(a.stderr, "devenv ui: ", 0)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		hs.Close()
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loopback says whether host is this machine's loopback: an address, or a
// name all of whose addresses are.
func loopback(ctx context.Context, host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	if host != "localhost" {
		return false
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return false
		}
	}
	return true
}

// dashboardServer is the dashboard of this user's projects, answering
// the hosts given, its actions from origin.
func (a *app) dashboardServer(ctx context.Context, hosts []string, origin string, readOnly bool) (*dashboard.Server, error) {
	store, err := a.registryStore()
	if err != nil {
		return nil, err
	}
	state, err := process.StateDir(a.env.get)
	if err != nil {
		return nil, err
	}
	token, err := dashboard.LoadToken(uiDirOf(state))
	if err != nil {
		return nil, err
	}
	src := &uiSource{a: a, store: store, state: state, details: map[string]uiDetails{}, tails: map[string][]string{},
		usage: map[string]uiUsage{}, ticks: map[string]uiTicks{}}
	if a.local == nil {
		if src.exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	srv := &dashboard.Server{Source: src, Hosts: hosts, Origin: origin, Token: token, CodeDir: uiDirOf(state),
		ReadOnly: readOnly, Log: log.New(a.stderr, "devenv ui: ", log.LstdFlags)}
	srv.Start(ctx)
	return srv, nil
}
