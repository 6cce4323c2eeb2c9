//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/devenv-dev/devenv/orchestrator"
	"golang.org/x/term"
)

// watchResize sends the terminal fd's size each time it changes (SIGWINCH).
func watchResize(fd int) (<-chan orchestrator.TermSize, func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGWINCH)
	sizes := make(chan orchestrator.TermSize, 1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-sigs:
				if w, h, err := term.GetSize(fd); err == nil {
					select {
					case sizes <- orchestrator.TermSize{Width: uint(w), Height: uint(h)}:
					default:
					}
				}
			}
		}
	}()
	return sizes, func() { signal.Stop(sigs); close(done) }
}
