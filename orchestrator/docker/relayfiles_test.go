package docker

import (
	"debug/elf"
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
	if f, err := elf.Open(sh); err != nil || interpreter(f) == "" {
		t.Skip("sh here is not a dynamically linked ELF executable")
	}
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

// ld.so.conf: directories separated by blanks, commas or colons, include
// with several patterns, hwcap lines skipped, comments dropped.
func TestLdSoConf(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "conf.d", "a.conf"), []byte("/a/lib # comment\n/a/lib2,/a/lib3\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "extra.conf"), []byte("\t/x/lib:/y/lib\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ld.so.conf"), []byte("include conf.d/*.conf extra.conf\nhwcap 0 nosegneg\n/usr/local/lib\n"), 0o644)
	got := ldSoConf(filepath.Join(dir, "ld.so.conf"), 0)
	want := []string{"/a/lib", "/a/lib2", "/a/lib3", "/x/lib", "/y/lib", "/usr/local/lib"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
