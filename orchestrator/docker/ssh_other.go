//go:build !linux

package docker

import "os/exec"

// endWithParent: only Linux can ask for a signal at the parent's death;
// elsewhere an ssh master outlives a killed devenv until its connection
// fails its keep-alives.
func endWithParent(cmd *exec.Cmd) {}
