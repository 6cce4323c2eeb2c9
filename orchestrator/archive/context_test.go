package archive

import (
	"archive/tar"
	"errors"
	"io"
	"net"
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
	if !strings.HasPrefix(df, ".dockerfile.") || len(names) != 3 || !slices.Contains(names, ".dockerignore") {
		t.Fatalf("inline (with the .dockerignore that hides it): %v %s", names, df)
	}
	if _, _, err := PackContext(BuildContext{Dir: dir}, nil); err == nil {
		t.Fatal("a missing Dockerfile is an error")
	}
}

func TestPackContextLinksSocketsAndSkips(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	os.MkdirAll(filepath.Join(real, "node_modules", "deep"), 0o755)
	os.WriteFile(filepath.Join(real, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(real, "node_modules", "deep", "x.js"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(real, ".dockerignore"), []byte("node_modules\n"), 0o644)
	link := filepath.Join(root, "app")
	os.Symlink(real, link)
	if ln, err := net.Listen("unix", filepath.Join(real, "agent.sock")); err == nil {
		defer ln.Close() // a socket in the context is left out, as docker does
	}
	// A symlinked context is its target.
	names, _ := entries(t, BuildContext{Dir: link})
	if !slices.Equal(names, []string{".dockerignore", "Dockerfile"}) {
		t.Fatalf("symlinked context: %v", names)
	}
	// An inline Dockerfile is named in the .dockerignore sent.
	r, df, err := PackContext(BuildContext{Dir: real, Inline: "FROM scratch\n"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatal(".dockerignore not sent")
		}
		if h.Name == ".dockerignore" {
			b, _ := io.ReadAll(tr)
			if !strings.Contains(string(b), "node_modules") || !strings.Contains(string(b), df) {
				t.Fatalf(".dockerignore sent: %q (dockerfile %s)", b, df)
			}
			break
		}
	}
	r.Close()
}
