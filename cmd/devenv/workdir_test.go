package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A stale PWD (a parent process that changed directory without updating
// it) must not make devenv act on the project PWD names.
func TestStalePWDIsIgnored(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"a", "b"} {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		file := "name: proj-" + name + "\nservices:\n  web:\n    image: nginx\n"
		if err := os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(filepath.Join(root, "b"))
	var out, errb bytes.Buffer
	env := []string{"PWD=" + filepath.Join(root, "a"), "HOME=" + t.TempDir(), "DEVENV_REGISTRY=" + filepath.Join(t.TempDir(), "r.yaml")}
	if code := run(context.Background(), []string{"devenv", "config", "--format", "json"}, env, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"name": "proj-b"`) {
		t.Fatalf("devenv acted on the project PWD names, not the working directory:\n%s", out.String())
	}
}
