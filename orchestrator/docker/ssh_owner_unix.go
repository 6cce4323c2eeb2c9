//go:build unix

package docker

import (
	"os"
	"syscall"
)

// ownedByMe says whether the user running devenv owns the file.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
