package archive

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPackUnpackRoundTrip(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "a.txt"), []byte("hello"), 0o640)
	os.Symlink("a.txt", filepath.Join(src, "sub", "link"))
	dest := t.TempDir()
	if err := Unpack(Pack(src, "data"), dest, "copy"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dest, "copy", "sub", "a.txt"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("%q %v", b, err)
	}
	if fi, _ := os.Stat(filepath.Join(dest, "copy", "sub", "a.txt")); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if l, err := os.Readlink(filepath.Join(dest, "copy", "sub", "link")); err != nil || l != "a.txt" {
		t.Fatalf("link %q %v", l, err)
	}
}

func TestUnpackNeverWritesThroughALink(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "d", "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "d", "sub", "f"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(src, "d", "g"), []byte("y"), 0o644)
	dest, outside := t.TempDir(), t.TempDir()
	// Links where a directory and a file go are replaced, not written
	// through.
	os.MkdirAll(filepath.Join(dest, "d"), 0o755)
	os.Symlink(outside, filepath.Join(dest, "d", "sub"))
	os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dest, "d", "g"))
	if err := Unpack(Pack(filepath.Join(src, "d"), "d"), dest, ""); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote outside: %v", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "d", "g")); string(b) != "y" {
		t.Fatalf("g = %q", b)
	}
}

func TestNoLinkBetween(t *testing.T) {
	dest, outside := t.TempDir(), t.TempDir()
	os.Symlink(outside, filepath.Join(dest, "l"))
	if err := noLinkBetween(dest, filepath.Join(dest, "l", "x", "f")); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("got %v", err)
	}
}

// A directory's contents as the engine sends PATH/. ("./", "./f") land in
// the destination, never beside it.
func TestUnpackDotTop(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "victim.txt"), []byte("new"), 0o644)
	parent := t.TempDir()
	os.WriteFile(filepath.Join(parent, "victim.txt"), []byte("old"), 0o644)
	if err := Unpack(Pack(src, "."), parent, "backup"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "victim.txt")); string(b) != "old" {
		t.Fatalf("overwrote the parent's file: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "backup", "victim.txt")); string(b) != "new" {
		t.Fatalf("backup/victim.txt = %q", b)
	}
}

// Hard links are copied as links, and an existing file is replaced, not
// written through another name of it.
func TestUnpackHardLinksAndReplace(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a"), []byte("A"), 0o644)
	os.Link(filepath.Join(src, "a"), filepath.Join(src, "b"))
	dest := t.TempDir()
	os.WriteFile(filepath.Join(dest, "other"), []byte("keep"), 0o644)
	os.MkdirAll(filepath.Join(dest, "d"), 0o755)
	os.Link(filepath.Join(dest, "other"), filepath.Join(dest, "d", "a"))
	if err := Unpack(Pack(src, "d"), dest, ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "other")); string(b) != "keep" {
		t.Fatalf("wrote through a hard link: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "d", "b")); string(b) != "A" {
		t.Fatalf("d/b = %q", b)
	}
}
