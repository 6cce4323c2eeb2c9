package archive

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func entries(t *testing.T, bc BuildContext) ([]string, string) {
	t.Helper()
	r, df, err := PackContext(bc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s owned by %d:%d", h.Name, h.Uid, h.Gid)
		}
	}
	slices.Sort(names)
	return names, df
}

func TestPackContextDockerignore(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"Dockerfile": "FROM scratch\n", "main.go": "package main\n", "node_modules/x/y.js": "y",
		"logs/a.log": "a", "logs/keep.log": "k", "secret.env": "S=1", "docs/readme.md": "r",
		".dockerignore": "node_modules\n*.env\nlogs/*.log\n!logs/keep.log\n# a comment\nDockerfile\n",
	} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("not to be sent"), 0o600)
	os.Symlink(outside, filepath.Join(dir, "link"))
	names, df := entries(t, BuildContext{Dir: dir})
	want := []string{".dockerignore", "Dockerfile", "docs/", "docs/readme.md", "link", "logs/", "logs/keep.log", "main.go"}
	if !slices.Equal(names, want) || df != "Dockerfile" {
		t.Fatalf("context %v (%s), want %v", names, df, want)
	}
}

func TestPackContextDockerfileOutsideAndInline(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "app")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(root, "Dockerfile.dev"), []byte("FROM scratch\n"), 0o644)
	names, df := entries(t, BuildContext{Dir: dir, Dockerfile: "../Dockerfile.dev"})
	if !strings.HasPrefix(df, ".dockerfile.") || !slices.Contains(names, df) || !slices.Contains(names, "a.txt") {
		t.Fatalf("outside dockerfile: %v %s", names, df)
	}
	names, df = entries(t, BuildContext{Dir: dir, Inline: "FROM scratch\nCOPY a.txt /\n"})
	if !strings.HasPrefix(df, ".dockerfile.") || len(names) != 2 {
		t.Fatalf("inline: %v %s", names, df)
	}
	if _, _, err := PackContext(BuildContext{Dir: dir}, nil); err == nil {
		t.Fatal("a missing Dockerfile is an error")
	}
}
