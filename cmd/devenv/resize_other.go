//go:build !unix

package main

import "github.com/devenv-dev/devenv/orchestrator"

// watchResize: without SIGWINCH the size is set once, at the start.
func watchResize(int) (<-chan orchestrator.TermSize, func()) { return nil, func() {} }
