package compose

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// CheckNames takes compose services and host services in any order and
// refuses anything else, however many names come before it.
func TestCheckNames(t *testing.T) {
	dir := t.TempDir()
	file := `x-devenv:
  host:
    myhost: {command: "true", port: 4000}
services:
  web: {image: scratch}
  later: {image: scratch, profiles: [x]}
`
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var unknown *UnknownServiceError
	var cfg *ConfigError
	cases := []struct {
		names []string
		ok    bool
		as    any
	}{
		{nil, true, nil},
		{[]string{"web"}, true, nil},
		{[]string{"myhost"}, true, nil},
		{[]string{"web", "myhost"}, true, nil},
		{[]string{"myhost", "web"}, true, nil},
		{[]string{"myhost", "bogus"}, false, &unknown},
		{[]string{"web", "bogus"}, false, &unknown},
		{[]string{"myhost", "later"}, false, &cfg},
	}
	for _, c := range cases {
		err := p.CheckNames(c.names)
		if (err == nil) != c.ok {
			t.Errorf("%v: err %v, want ok=%v", c.names, err, c.ok)
			continue
		}
		if !c.ok && !errors.As(err, c.as) {
			t.Errorf("%v: err %T %v, not the expected type", c.names, err, err)
		}
	}
}
