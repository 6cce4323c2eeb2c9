package docker

import (
	"os/exec"
	"syscall"
)

// endWithParent ends an ssh process when devenv dies, even by SIGKILL: a
// master left behind would hold its connection open for ever.
func endWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
