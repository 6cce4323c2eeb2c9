package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/devenv-dev/devenv/orchestrator/process"
)

func main() {
	// devenv re-executed as the detached supervisor of a host service.
	if spec := os.Getenv(process.SuperviseEnv); spec != "" {
		os.Exit(process.Supervise(spec))
	}
	if code, ok := special(os.Args); ok {
		os.Exit(code)
	}
	ctx, stop := interrupts(os.Exit)
	// DEVENV_CPUPROFILE=file writes a CPU profile, for performance work.
	if path := os.Getenv("DEVENV_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer f.Close()
		}
	}
	code := run(ctx, os.Args, os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	stop()
	os.Exit(code)
}

// interrupts cancels the context on the first SIGINT or SIGTERM, so the
// command winds down and exits 130; a second one ends the process at once.
func interrupts(exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		<-sigs
		os.Stderr.WriteString("devenv: interrupted again; exiting now\n")
		exit(exitInterrupted)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}
