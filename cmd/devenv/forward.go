package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/devenv-dev/devenv/orchestrator/docker"
	"github.com/devenv-dev/devenv/orchestrator/forward"
	"github.com/devenv-dev/devenv/proxy"
)

// forwardMain is devenv as a project's port forward, run by its supervisor
// with the spec in forward.Env: it serves until SIGTERM (stop, down).
func forwardMain(specText string, log io.Writer) int {
	spec, err := forward.Decode(specText)
	if err != nil {
		fmt.Fprintln(log, "devenv forward:", err)
		return 2
	}
	ep := docker.Endpoint{Host: spec.Engine.Host, How: "the forward's spec", TLS: spec.Engine.TLS, TLSVerify: spec.Engine.TLSVerify, CertPath: spec.Engine.CertPath, Remote: true, PrivateSSH: true}
	e, err := docker.New(ep, nil)
	if err != nil {
		fmt.Fprintln(log, "devenv forward:", err)
		return 1
	}
	defer e.Close()
	e.Beacon = spec.Beacon
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	dial := func(ctx context.Context, addr string) (forward.Conn, error) { return e.Dial(ctx, spec.Relay, addr) }
	if err := forward.Serve(ctx, spec, dial, log); err != nil {
		fmt.Fprintln(log, "devenv forward:", err)
		return 1
	}
	return 0
}

// special runs devenv's hidden roles: the supervisor of a host service,
// a project's port forward, the relay inside a remote engine. ok is false
// for an ordinary run.
func special(args []string) (code int, ok bool) {
	if spec := os.Getenv(forward.Env); spec != "" {
		return forwardMain(spec, os.Stdout), true
	}
	if len(args) > 1 && args[1] == forward.RelayArg {
		return forward.Relay(args[2:], os.Stdin, os.Stdout, os.Stderr), true
	}
	if os.Getenv(proxy.ServeEnv) != "" || os.Getenv(cliEnv) != "" {
		// The proxy, as its supervisor runs it, or a dashboard's action
		// (also from a test binary).
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		return run(ctx, args, os.Environ(), os.Stdin, os.Stdout, os.Stderr), true
	}
	return 0, false
}
