package process

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes the supervisor the parent of every orphaned
// descendant of its service (PR_SET_CHILD_SUBREAPER): a child that
// daemonises (setsid and fork, as pg_ctl or redis-server --daemonize do)
// leaves the service's process group but not the supervisor, so stop finds
// it.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// children lists the processes whose parent is pid, with whether each is a
// zombie, from /proc.
func children(pid int) map[int]bool {
	out := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out[child] = f[0] == "Z"
		}
	}
	return out
}

// reap collects the exit status of pid, one of the supervisor's adopted
// children, without blocking.
func reap(pid int) {
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
}
