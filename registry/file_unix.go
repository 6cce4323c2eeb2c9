//go:build unix

package registry

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// checkWritable refuses a registry another user owns or others can write:
// such a file could be used to steer this user's containers.
func checkWritable(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return &UnsafeError{File: path, Reason: "is a symlink; refusing to write through it"}
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return &UnsafeError{File: path, Reason: fmt.Sprintf("is owned by uid %d, not you (uid %d); refusing to write it", sys.Uid, os.Geteuid())}
	}
	if st.Mode().Perm()&0o022 != 0 {
		return &UnsafeError{File: path, Reason: fmt.Sprintf("is writable by group or others (mode %04o); run chmod 600 %s", st.Mode().Perm(), path)}
	}
	return nil
}

func writePID(lockPath string) {
	f, err := os.OpenFile(lockPath, os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_ = f.Truncate(0)
	_, _ = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
}
