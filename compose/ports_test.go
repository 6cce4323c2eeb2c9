package compose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestRole(t *testing.T) {
	cases := []struct{ explicit, image, service, want string }{
		{"", "postgres:15", "db", "postgres"},
		{"", "postgis/postgis:16-3.4", "gis", "postgres"},
		{"", "docker.io/library/redis:7-alpine", "cache", "redis"},
		{"", "valkey/valkey:8", "kv", "redis"},
		{"", "electricsql/electric:latest", "sync", "electric"},
		{"", "mariadb:11", "sql", "mysql"},
		{"", "mongo:7", "docdb", "mongo"},
		{"", "registry.example.com:5000/team/postgres:15", "x", "postgres"},
		{"", "myapp:dev", "backend", "phoenix"},
		{"", "myapp:dev", "frontend", "vite"},
		{"", "myapp:dev", "worker", "worker"},
		{"phoenix", "postgres:15", "db", "phoenix"},
	}
	for _, c := range cases {
		if got := Role(c.explicit, c.image, c.service); got != c.want {
			t.Errorf("Role(%q, %q, %q) = %q, want %q", c.explicit, c.image, c.service, got, c.want)
		}
	}
}

func TestParsePublished(t *testing.T) {
	cases := []struct {
		in     string
		lo, hi int
		err    string
	}{
		{"", 0, 0, ""}, {"5432", 5432, 0, ""}, {"8000-8002", 8000, 8002, ""}, {"8000-8000", 8000, 0, ""},
		{"0", 0, 0, "out of range"}, {"99999", 0, 0, "out of range"}, {"abc", 0, 0, "not a number"},
		{"9-3", 0, 0, "ends before"}, {"-5", 0, 0, "not a number"},
	}
	for _, c := range cases {
		lo, hi, err := ParsePublished(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || lo != c.lo || hi != c.hi {
			t.Errorf("%q: %d %d %v, want %d %d", c.in, lo, hi, err, c.lo, c.hi)
		}
	}
}

func FuzzParsePublished(f *testing.F) {
	for _, s := range []string{"", "80", "8000-8010", "65535", "1-2-3", "-", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := ParsePublished(s)
		if err != nil {
			return
		}
		if s != "" && (lo < 1 || lo > 65535) {
			t.Fatalf("%q gave port %d", s, lo)
		}
		if hi != 0 && (hi <= lo || hi > 65535) {
			t.Fatalf("%q gave range %d-%d", s, lo, hi)
		}
	})
}

func FuzzDecodeExtension(f *testing.F) {
	f.Add(`{"stack":"x","host":{"backend":{"role":"phoenix","port":4002}},"env_files":{"a/.env":{"K":"v"}}}`)
	f.Add(`{"publish":"all"}`)
	f.Add(`{"host":{"x":{"port":"nan"}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		x, err := DecodeExtension(v)
		if err != nil {
			return
		}
		// What decodes must encode and decode to the same value.
		b, _ := json.Marshal(x)
		var v2 any
		_ = json.Unmarshal(b, &v2)
		x2, err := DecodeExtension(v2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		b2, _ := json.Marshal(x2)
		if string(b) != string(b2) {
			t.Fatalf("not stable: %s vs %s", b, b2)
		}
	})
}

func TestExpand(t *testing.T) {
	ports := map[string]map[int]int{"backend": {0: 4002, 4002: 4002}, "electric": {0: 3001, 3000: 3001}, "db": {5432: 5434, 8080: 9090}}
	lookup := func(s string, target int) (int, bool) {
		p, ok := ports[s][target]
		if !ok && target == 0 {
			for _, v := range ports[s] {
				return v, true
			}
		}
		return p, ok
	}
	got, err := Expand("http://localhost:{backend} {electric} {db:8080}", lookup)
	if err != nil || got != "http://localhost:4002 3001 9090" {
		t.Fatalf("got %q %v", got, err)
	}
	if _, err := Expand("{nosuch}", lookup); err == nil {
		t.Fatal("unknown placeholder expanded")
	}
	if _, err := Expand("{db:x}", lookup); err == nil {
		t.Fatal("bad target accepted")
	}
}

// TestServiceHashPinned pins the JSON compose hashes (key order and field
// set): if a compose-go upgrade changes it, every container would be
// recreated, and this test says so before users find out.
func TestServiceHashPinned(t *testing.T) {
	abs, _ := filepath.Abs("testdata/valid-example.yml")
	p, err := Load(t.Context(), Options{Files: []string{abs}, WorkingDir: filepath.Dir(abs), Environ: []string{"PATH=/usr/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := p.Model.Services["postgres"]
	b, _ := json.Marshal(hashable(svc))
	golden := filepath.Join("testdata", "hash-postgres.golden.json")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile(golden, b, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 once)", err)
	}
	if string(b) != strings.TrimSpace(string(want)) {
		t.Fatalf("hash input changed:\n got %s\nwant %s", b, want)
	}
	h1, _ := ServiceHash(svc)
	// build, pull_policy, scale, depends_on and profiles do not change it.
	svc2 := svc
	svc2.PullPolicy = "always"
	svc2.Profiles = []string{"x"}
	svc2.DependsOn = types.DependsOnConfig{"y": {Condition: "service_started"}}
	svc2.Build = &types.BuildConfig{Context: "."}
	h2, _ := ServiceHash(svc2)
	if h1 != h2 {
		t.Errorf("ignored fields changed the hash")
	}
	svc2.Environment = types.MappingWithEquals{"X": nil}
	if h3, _ := ServiceHash(svc2); h3 == h1 {
		t.Errorf("environment did not change the hash")
	}
}

func hashable(s types.ServiceConfig) types.ServiceConfig {
	s.Build, s.PullPolicy, s.Scale, s.DependsOn, s.Profiles = nil, "", nil, nil, nil
	return s
}

func BenchmarkLoadExample(b *testing.B) {
	abs, _ := filepath.Abs("../examples/enforcement/docker-compose.dev.yml")
	for b.Loop() {
		if _, err := Load(b.Context(), Options{Files: []string{abs}, WorkingDir: filepath.Dir(abs), Environ: []string{"PATH=/usr/bin"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkServiceHash(b *testing.B) {
	abs, _ := filepath.Abs("../examples/enforcement/docker-compose.dev.yml")
	p, err := Load(b.Context(), Options{Files: []string{abs}, WorkingDir: filepath.Dir(abs), Environ: []string{"PATH=/usr/bin"}})
	if err != nil {
		b.Fatal(err)
	}
	svc := p.Model.Services["postgres"]
	for b.Loop() {
		if _, err := ServiceHash(svc); err != nil {
			b.Fatal(err)
		}
	}
}
