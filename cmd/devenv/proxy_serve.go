package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/process"
	"github.com/devenv-dev/devenv/proxy"
	"github.com/urfave/cli/v2"
)

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
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // devenv up: names were written
	defer signal.Stop(hup)
	go func() {
		for range hup {
			routes.Reload()
		}
	}()
	srv := proxy.NewServer(ca, routes.Table, o.HTTPS)
	srv.OwnPorts = []int{o.HTTPS, o.HTTP}
	srv.ErrorLog = log.New(a.stderr, "proxy: ", log.LstdFlags)
	srv.Down = func(r proxy.Route) (string, string) {
		if !r.HostService {
			return a.containerState(ctx, r), ""
		}
		state := "not running"
		if st, ok := ctl.State.Read(r.Project, r.Service); ok {
			state = st.Status
			if st.Status == "exited" || st.Status == "failed" {
				state = fmt.Sprintf("%s (exit code %d)", st.Status, st.ExitCode)
			}
		}
		return state, process.Tail(ctl.State.LogPath(r.Project, r.Service), 20)
	}
	own := proxy.URL(proxy.DashboardHost, o.HTTPS)
	// The names go on whatever befalls the dashboard: it answers 503 and
	// says why.
	if board, err := a.dashboardServer(ctx, []string{strings.TrimPrefix(own, "https://")}, own, false); err != nil {
		srv.ErrorLog.Printf("dashboard: %v", err)
		srv.Dashboard = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "devenv ui is unavailable: "+err.Error(), http.StatusServiceUnavailable)
		})
	} else {
		srv.Dashboard = board
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

// containerState is a named container's state as this machine's engine
// lists it ("" where it cannot tell: a remote engine, no engine).
func (a *app) containerState(ctx context.Context, r proxy.Route) string {
	if r.Engine != "" {
		return ""
	}
	e, err := a.dockerEngine()
	if err != nil {
		return ""
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cs, err := e.Containers(cctx, orchestrator.ListFilter{All: true,
		Labels: []string{orchestrator.LabelProject + "=" + r.Project, orchestrator.LabelService + "=" + r.Service}})
	if err != nil {
		return ""
	}
	if len(cs) == 0 {
		return "not created (devenv up creates it)"
	}
	return cs[0].State + " (" + cs[0].Status + ")"
}
