package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each of compose-go's complaints comes out as FILE:LINE:COL, the key, and
// what to do, never in the library's words.
func TestSchemaErrorsSaidDevenvsWay(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want, never string }{
		{"type", "services:\n  db:\n    image: x\n    ports: \"5432:5432\"\n",
			":4:5: services.db.ports: must be a list", "must be a array"},
		{"unknown key", "services:\n  db:\n    image: x\n    bogus_key: 1\n",
			":4:5: services.db.bogus_key: compose has no key \"bogus_key\" here", "additional properties"},
		{"required variable", "services:\n  db:\n    image: x\n    environment:\n      P: ${REQ_DEVENV_TEST:?set it}\n",
			":5:7: services.db.environment.P: variable REQ_DEVENV_TEST is not set", "error while interpolating"},
		{"undefined dependency", "services:\n  db:\n    image: x\n    depends_on: [nope]\n",
			":4:5: services.db.depends_on: \"nope\" is not a service of this project", "invalid compose project"},
		{"undefined network", "services:\n  db:\n    image: x\n    networks: [nope]\n",
			":4:5: services.db.networks: network \"nope\" is not declared", "invalid compose project"},
		{"duration", "services:\n  db:\n    image: x\n    healthcheck:\n      interval: 5q\n",
			":5:7: services.db.healthcheck.interval: \"5q\" is not a duration", "decoding failed"},
		{"number", "services:\n  db:\n    image: x\n    ports:\n      - {target: abc}\n",
			":4:5: services.db.ports[].target: \"abc\" must be a number", "strconv"},
		{"x-devenv type", "services:\n  web:\n    image: x\nx-devenv:\n  host:\n    web2:\n      port: abc\n",
			"x-devenv: host.web2.port must be a number, not a string", "HostService"},
		{"x-devenv not a mapping", "services:\n  web:\n    image: x\nx-devenv: 3\n", "x-devenv: the block must be a mapping, not a number", "x-devenv:  "},
		{"x-devenv fraction", "services:\n  web:\n    image: x\nx-devenv:\n  host:\n    web2:\n      port: 1.5\n", "host.web2.port must be a whole number, not 1.5", "number 1.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "docker-compose.dev.yml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(t.Context(), Options{Files: []string{file}, WorkingDir: dir})
			if err == nil {
				t.Fatal("loaded")
			}
			want := tc.want
			if strings.HasPrefix(want, ":") {
				want = file + want // the position right after the file
			}
			if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, tc.never) {
				t.Errorf("got %q\nwant %q (never %q)", msg, tc.want, tc.never)
			}
		})
	}
}

// The position is in the file that has the key, not in the first file
// that has its service; a list item is found by its index.
func TestSchemaErrorPositionsAcrossFilesAndLists(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.yml")
	over := filepath.Join(dir, "over.yml")
	os.WriteFile(base, []byte("services:\n  db:\n    image: x\n"), 0o644)
	os.WriteFile(over, []byte("services:\n  db:\n    environment: {A: b}\n    bogus_key: 1\n"), 0o644)
	_, err := Load(t.Context(), Options{Files: []string{base, over}, WorkingDir: dir})
	if err == nil || !strings.Contains(err.Error(), over+":4:5: services.db.bogus_key") {
		t.Fatalf("override's unknown key: %v", err)
	}
	os.WriteFile(base, []byte("services:\n  db:\n    image: x\n    ports:\n      - \"5432:5432\"\n      - target: 1\n        bogus: 2\n"), 0o644)
	_, err = Load(t.Context(), Options{Files: []string{base}, WorkingDir: dir})
	if err == nil || !strings.Contains(err.Error(), base+":7:9: services.db.ports[1].bogus") {
		t.Fatalf("a list item's unknown key: %v", err)
	}
}
