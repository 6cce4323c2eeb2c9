package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, ".docker")
	writeContext := func(name, host string, tls bool) {
		sum := sha256.Sum256([]byte(name))
		id := hex.EncodeToString(sum[:])
		dir := filepath.Join(cfg, "contexts", "meta", id)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "meta.json"), []byte(`{"Name":"`+name+`","Endpoints":{"docker":{"Host":"`+host+`","SkipTLSVerify":false}}}`), 0o644)
		if tls {
			td := filepath.Join(cfg, "contexts", "tls", id, "docker")
			os.MkdirAll(td, 0o755)
			os.WriteFile(filepath.Join(td, "ca.pem"), []byte("x"), 0o644)
		}
	}
	writeContext("colima", "unix:///Users/me/.colima/default/docker.sock", false)
	writeContext("remote", "tcp://build.example:2376", true)
	cases := []struct {
		name string
		env  map[string]string
		host string
		how  string
		rem  bool
		err  string
	}{
		{"default", nil, DefaultHost(), "default socket", false, ""},
		{"DOCKER_HOST wins", map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2375", "DOCKER_CONTEXT": "colima"}, "tcp://127.0.0.1:2375", "DOCKER_HOST", false, ""},
		{"DOCKER_CONTEXT", map[string]string{"DOCKER_CONTEXT": "colima"}, "unix:///Users/me/.colima/default/docker.sock", `docker context "colima"`, false, ""},
		{"remote context with TLS", map[string]string{"DOCKER_CONTEXT": "remote"}, "tcp://build.example:2376", `docker context "remote"`, true, ""},
		{"ssh", map[string]string{"DOCKER_HOST": "ssh://me@box"}, "ssh://me@box", "DOCKER_HOST", true, ""},
		{"unknown context", map[string]string{"DOCKER_CONTEXT": "nope"}, "", "", false, `docker context "nope" not found`},
		{"bad scheme", map[string]string{"DOCKER_HOST": "ftp://x"}, "", "", false, "not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"HOME": home}
			for k, v := range c.env {
				env[k] = v
			}
			ep, err := Resolve(func(k string) string { return env[k] })
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep.Host != c.host || !strings.Contains(ep.How, c.how) || ep.Remote != c.rem {
				t.Fatalf("got %+v", ep)
			}
		})
	}
	// The current context in config.json is used when nothing else is set.
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"currentContext":"colima"}`), 0o644)
	ep, err := Resolve(func(k string) string { return map[string]string{"HOME": home}[k] })
	if err != nil || !strings.Contains(ep.Host, "colima") || !strings.Contains(ep.How, "config.json") {
		t.Fatalf("current context: %+v %v", ep, err)
	}
	if ep.Remote {
		t.Fatalf("a context's unix socket is a local engine")
	}
	remote, _ := Resolve(func(k string) string { return map[string]string{"HOME": home, "DOCKER_HOST": "tcp://10.0.0.5:2375"}[k] })
	if !remote.Remote || !remote.PlainTCP() {
		t.Fatalf("remote: %+v", remote)
	}
}
