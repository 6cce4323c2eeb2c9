package compose

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceHashMatchesCompose pins devenv's config hashes to the values
// the reference docker compose produced for the same files
// (scripts/pin-compose-hashes writes them): equal hashes are what lets
// either tool leave the other's containers alone.
func TestServiceHashMatchesCompose(t *testing.T) {
	f, err := os.Open("testdata/compose-hashes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	projects := map[string]*Project{}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Fields(line)
		file, service, want := filepath.Join("..", fields[0]), fields[1], fields[2]
		p, ok := projects[file]
		if !ok {
			abs, _ := filepath.Abs(file)
			p, err = Load(t.Context(), Options{Files: []string{abs}, ProjectName: "cmp", WorkingDir: filepath.Dir(abs), Environ: []string{"PATH=/usr/bin"}})
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			projects[file] = p
		}
		got, err := ServiceHash(p.Model.Services[service])
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s service %s: devenv's hash %s, docker compose's %s", fields[0], service, got, want)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d pinned hashes read", n)
	}
}
