package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// planCall is the fake engine's record of the call a dry run's line
// stands for ("" for a line that calls no engine).
func planCall(line string, up bool) string {
	if up {
		if m := regexp.MustCompile(`^(?:  (stop|start|create|remove) (\S+)|  rename (\S+) to (\S+)|create (network|volume) (\S+))$`).FindStringSubmatch(line); m != nil {
			switch {
			case m[1] != "":
				return m[1] + " " + m[2]
			case m[3] != "":
				return "rename " + m[3] + " " + m[4]
			default:
				return "create-" + m[5] + " " + m[6]
			}
		}
		return ""
	}
	if m := regexp.MustCompile(`^remove (network|volume|image) (\S+?):?(?: |$)`).FindStringSubmatch(line); m != nil {
		return "remove-" + m[1] + " " + m[2]
	}
	m := regexp.MustCompile(`^(stop|start|remove|kill) \S+ \(([^)]+)\)(?:: (\S+))?`).FindStringSubmatch(line)
	switch {
	case m == nil:
		return ""
	case m[1] == "kill":
		return "kill " + m[2] + " " + m[3]
	default:
		return m[1] + " " + m[2]
	}
}

// Every lifecycle verb's --dry-run prints its plan and changes nothing,
// and the verb then makes exactly the engine calls its plan printed (up's
// container steps list theirs under them).
func TestDryRunPrintsTheCallsTheVerbMakes(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("up")
	for _, verb := range [][]string{
		{"stop", "api"},
		{"start"},
		{"restart"},
		{"kill", "-s", "SIGTERM", "cache"},
		{"rm", "-f", "cache"},
		{"rm", "-s", "-f", "api"},
		{"up"},
		{"stop", "db"},
		{"up"},
		{"up", "--force-recreate", "cache"},
		{"down", "-v", "--rmi", "all"},
		{"up"},
	} {
		before := len(f.eng.Log)
		dry := f.must(append(verb, "--dry-run")...)
		if len(f.eng.Log) != before {
			t.Fatalf("devenv %s --dry-run changed the engine: %v", strings.Join(verb, " "), f.eng.Log[before:])
		}
		if global := f.must(append([]string{"--dry-run"}, verb...)...); global.stdout != dry.stdout {
			t.Errorf("devenv --dry-run %s printed\n%s\nnot\n%s", strings.Join(verb, " "), global.stdout, dry.stdout)
		}
		var want []string
		up := verb[0] == "up"
		for _, line := range strings.Split(strings.TrimRight(dry.stdout, "\n"), "\n") {
			if call := planCall(line, up); call != "" {
				want = append(want, call)
			}
		}
		if len(want) == 0 {
			t.Fatalf("devenv %s --dry-run printed no engine call:\n%s", strings.Join(verb, " "), dry.stdout)
		}
		f.must(verb...)
		got := slices.Clone(f.eng.Log[before:])
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("devenv %s: the plan printed\n%s\nit called\n%s", strings.Join(verb, " "), strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
	}
}

// Stop's plan stops what depends on a service before the service, and
// restart starts them again the other way round.
func TestDryRunOrder(t *testing.T) {
	f := newFakeCLI(t, goldenFile)
	f.must("up")
	out := f.must("restart", "--dry-run").stdout
	for _, before := range [][2]string{
		{"stop api (gold-api-1)", "stop db (gold-db-1)"},
		{"stop db (gold-db-1)", "start db (gold-db-1)"},
		{"start db (gold-db-1)", "start api (gold-api-1)"},
	} {
		i, j := strings.Index(out, before[0]), strings.Index(out, before[1])
		if i < 0 || j < 0 || i > j {
			t.Errorf("restart --dry-run: want %q before %q in\n%s", before[0], before[1], out)
		}
	}
	if r := f.run("--dry-run", "ps"); r.code != 2 || !strings.Contains(r.stderr, "kill have a dry run") {
		t.Errorf("--dry-run ps: %s", r)
	}
}
