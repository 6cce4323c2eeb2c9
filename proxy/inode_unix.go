//go:build unix

package proxy

import (
	"io/fs"
	"syscall"
)

// inode tells a file replaced by a rename from the one before it, whatever
// its size and time.
func inode(info fs.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
