package process

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// startTime is the process's start time from the kernel; "" when it does
// not run (or is a zombie).
func startTime(pid int) string {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || kp.Proc.P_pid != int32(pid) || kp.Proc.P_stat == 5 /* SZOMB */ {
		return ""
	}
	t := kp.Proc.P_starttime
	return fmt.Sprintf("%d.%06d", t.Sec, t.Usec)
}
