package docker

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// A dynamically linked program's relay files: itself, its loader at the
// path it names, and its libraries; a wrong architecture or a file that is
// not ELF is refused, naming it.
func TestRelayFilesOfADynamicBinary(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs a Linux sh")
	}
	sh, _ = filepath.EvalSymlinks(sh)
	files, dirs, err := relayFiles(sh, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f.image))
	}
	if files[0].image != "devenv" || len(files) < 3 || !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "ld-") }) ||
		!slices.Contains(names, "libc.so.6") || len(dirs) == 0 {
		t.Fatalf("files %v, library dirs %v", names, dirs)
	}
	other := map[string]string{"amd64": "arm64"}[runtime.GOARCH]
	if other == "" {
		other = "amd64"
	}
	if _, _, err := relayFiles(sh, other); err == nil || !strings.Contains(err.Error(), sh) {
		t.Fatalf("another architecture: %v", err)
	}
	script := filepath.Join(t.TempDir(), "devenv")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if _, _, err := relayFiles(script, runtime.GOARCH); err == nil || !strings.Contains(err.Error(), "not a Linux executable") {
		t.Fatalf("a script: %v", err)
	}
}
