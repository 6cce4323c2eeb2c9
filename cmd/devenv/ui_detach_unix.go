//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// detach gives cmd a session of its own: a signal to the server's process
// group (its supervisor stopping it) does not reach it.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
