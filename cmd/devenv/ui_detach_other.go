//go:build !unix

package main

import "os/exec"

// detach is a no-op where processes have no sessions.
func detach(*exec.Cmd) {}
