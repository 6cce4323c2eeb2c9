package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/urfave/cli/v2"
)

// parityRow is the table's line for "COMMAND --FLAG".
func parityRow(name string) string {
	for _, line := range strings.Split(parityTable(parityApp()), "\n") {
		if strings.HasPrefix(line, "| `"+name+"` |") {
			return line
		}
	}
	return ""
}

func parityApp() *cli.App {
	app := newApp(&app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, env: env{}})
	addComposeParity(app)
	return app
}

// TestIntegrationComposeParity reads the reference docker compose's --help
// for every command: the commands and flags devenv knows must be exactly
// those (a compose release that adds one fails here).
func TestIntegrationComposeParity(t *testing.T) {
	composeV2(t)
	fresh := filepath.Join(t.TempDir(), "compose-cli.txt")
	cmd := exec.Command("scripts/compose-cli", fresh)
	cmd.Dir = testbed.Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/compose-cli: %v\n%s", err, out)
	}
	body := func(s string) string { _, rest, _ := strings.Cut(s, "\n"); return rest }
	if got := mustRead(t, fresh); body(got) != body(composeCLI) {
		t.Fatalf("docker compose's commands or flags changed: run scripts/compose-cli and decide for each new one\n--- now\n%s", got)
	}
}

// TestParityAgainstTheCLI needs no engine and no compose: every command
// and flag of compose's --help (as compose-cli.txt keeps it) is accepted
// or refused in one line with exit 2, and the parity table in
// docs/compose-parity.md is the one devenv would print.
func TestParityAgainstTheCLI(t *testing.T) {
	dir := t.TempDir()
	try := func(args []string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runIn(context.Background(), dir, args, []string{"HOME=" + dir, "DOCKER_HOST=unix:///nonexistent"}, nil, &out, &errb)
		msg := errb.String()
		if strings.Contains(msg, "not defined") || strings.Contains(msg, "unknown command") || strings.Contains(msg, "No help topic") {
			t.Errorf("%v: %s", args, msg)
		}
		if strings.Contains(msg, "does not have docker compose's") || strings.Contains(msg, "does not have this docker compose command") {
			t.Errorf("%v: a refusal without its own reason: %s", args, msg)
		}
		if code != 0 && code != exitUsage {
			t.Errorf("%v: exit %d %s", args, code, msg)
		}
	}
	for _, e := range composeEntries() {
		// The long name, and the short one alone and written together with
		// another switch of the command (compose takes -fsv for -f -s -v).
		for _, name := range []string{"--" + e.Long, "-" + e.Short, "-" + e.Short + "h"} {
			if (e.Long == "" && name != "--") || (e.Short == "" && name != "--"+e.Long) || (name == "-"+e.Short+"h" && e.Type != "bool") {
				continue
			}
			args := []string{"devenv", e.Command}
			if e.Command == "*" {
				args = []string{"devenv"}
			}
			if e.Long != "" {
				args = append(args, name)
				if e.Type != "bool" {
					args = append(args, "1")
				}
			}
			if e.Command == "*" {
				args = append(args, "version", "--help")
			} else {
				args = append(args, "--help")
			}
			try(args)
		}
		// A row the table marks refused is refused when used, not only in
		// the table: exit 2 naming the flag, before any project or engine.
		if e.Long == "" || e.Command == "*" {
			continue
		}
		if !strings.Contains(parityRow(e.Command+" --"+e.Long), "refused") {
			continue
		}
		args := []string{"devenv", e.Command, "--" + e.Long}
		if e.Type != "bool" {
			args = append(args, "1")
		}
		var out, errb bytes.Buffer
		code := runIn(context.Background(), dir, args, []string{"HOME=" + dir, "DOCKER_HOST=unix:///nonexistent"}, nil, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), "--"+e.Long) {
			t.Errorf("%v: the table says refused; devenv exits %d: %s", args, code, errb.String())
		}
	}
	// Commands compose keeps out of its --help, and its hidden globals.
	try([]string{"devenv", "bridge", "convert"})
	for _, g := range []string{"--no-ansi", "--verbose", "--workdir=."} {
		try([]string{"devenv", g, "version", "--help"})
	}
	readme := filepath.Join(testbed.Root(), "docs", "compose-parity.md")
	text := mustRead(t, readme)
	start, end := "<!-- parity:start -->\n", "<!-- parity:end -->"
	i, j := strings.Index(text, start), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatal("docs/compose-parity.md has no parity table markers")
	}
	want := parityTable(parityApp())
	if text[i+len(start):j] != want {
		if os.Getenv("UPDATE_README") != "" {
			os.WriteFile(readme, []byte(text[:i+len(start)]+want+text[j:]), 0o644)
			return
		}
		t.Fatalf("the parity table in docs/compose-parity.md is not what devenv does (UPDATE_README=1 rewrites it):\n%s", want)
	}
}
