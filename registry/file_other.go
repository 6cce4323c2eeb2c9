//go:build !unix

package registry

import (
	"os"
	"strconv"
)

func checkWritable(string) error { return nil }

func writePID(lockPath string) {
	_ = os.WriteFile(lockPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
}
