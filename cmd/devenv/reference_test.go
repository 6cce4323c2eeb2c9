package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/testbed"
)

// referencePages renders docs/reference from the command line's own
// definitions: one page per command and subcommand (its --help), and an
// index in the help's groups.
func referencePages(t *testing.T) map[string]string {
	t.Helper()
	help := func(args ...string) string {
		r := (&harness{t: t, dir: t.TempDir()}).run(append(args, "--help")...)
		if r.code != 0 {
			t.Fatalf("devenv %v --help: %s", args, r)
		}
		return r.stdout
	}
	pages := map[string]string{}
	page := func(file, title, body string) {
		pages[file] = fmt.Sprintf("<!-- generated from devenv's command line: go test ./cmd/devenv -run Reference with UPDATE_DOCS=1 -->\n# %s\n\n```text\n%s```\n", title, body)
	}
	var index strings.Builder
	index.WriteString("<!-- generated from devenv's command line: go test ./cmd/devenv -run Reference with UPDATE_DOCS=1 -->\n# Command reference\n\nEach page is the command's `--help`, generated from its definition.\n")
	app := newApp(&app{})
	byName := map[string]bool{}
	for _, c := range app.Commands {
		byName[c.Name] = !c.Hidden
	}
	for _, g := range commandGroups {
		fmt.Fprintf(&index, "\n## %s\n\n", g.title)
		for _, name := range g.names {
			if !byName[name] {
				continue
			}
			c := app.Command(name)
			fmt.Fprintf(&index, "- [`devenv %s`](%s.md): %s\n", name, name, c.Usage)
			page(name+".md", "devenv "+name, help(name))
			for _, s := range c.Subcommands {
				if s.Hidden || s.Name == "help" {
					continue
				}
				fmt.Fprintf(&index, "  - [`devenv %s %s`](%s-%s.md): %s\n", name, s.Name, name, s.Name, s.Usage)
				page(name+"-"+s.Name+".md", "devenv "+name+" "+s.Name, help(name, s.Name))
			}
		}
	}
	index.WriteString("\n## Global flags and exit codes\n\n[`devenv --help`](devenv.md)\n")
	page("devenv.md", "devenv", help())
	pages["README.md"] = index.String()
	return pages
}

// TestReferenceDocs: docs/reference is what the command line says now
// (UPDATE_DOCS=1 rewrites it), and holds no page of a command that is gone.
func TestReferenceDocs(t *testing.T) {
	dir := filepath.Join(testbed.Root(), "docs", "reference")
	pages := referencePages(t)
	if os.Getenv("UPDATE_DOCS") != "" {
		os.RemoveAll(dir)
		os.MkdirAll(dir, 0o755)
		for name, body := range pages {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if _, ok := pages[e.Name()]; !ok {
			t.Errorf("docs/reference/%s is no command's page any more (UPDATE_DOCS=1 rewrites the directory)", e.Name())
		}
	}
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("docs/reference/%s is stale or missing (UPDATE_DOCS=1 go test ./cmd/devenv -run Reference rewrites it)", name)
		}
	}
}
