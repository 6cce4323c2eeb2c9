package orchestrator

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/testproject"
	"github.com/devenv-dev/devenv/registry"
)

func TestBindingsPublishSettings(t *testing.T) {
	file := `name: pub
x-devenv:
  host:
    api: {role: phoenix, port: 4100}
services:
  db:
    image: postgres:15
    ports: ["5434:5432", "127.0.0.2:7000:7000", "9000"]
  web:
    image: nginx
    ports: ["8080:80"]
    x-devenv: {publish: all}
`
	cases := []struct {
		name     string
		registry string
		opts     PortOptions
		want     string
		warn     string
	}{
		{"localhost by default", "", PortOptions{}, "db 127.0.0.1:5434:5432 127.0.0.2:7000:7000 127.0.0.1:0:9000 | web :8080:80", ""},
		{"--publish-all", "", PortOptions{PublishAll: true}, "db :5434:5432 127.0.0.2:7000:7000 :0:9000 | web :8080:80", "db (postgres) publishes port 5434 on all interfaces"},
		{"registry publish all", `{"version": 1, "publish": "all"}`, PortOptions{}, "db :5434:5432 127.0.0.2:7000:7000 :0:9000 | web :8080:80", "on all interfaces"},
		{"registry assignment applied", `{"version": 1, "projects": [{"name": "pub", "directory": "DIR", "reservations": [{"service":"db","role":"postgres","target":5432,"port":5440,"protocol":"tcp"}]}]}`, PortOptions{}, "db 127.0.0.1:5440:5432 127.0.0.2:7000:7000 127.0.0.1:0:9000 | web :8080:80", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testproject.Load(t, file)
			regPath := filepath.Join(t.TempDir(), "registry.yaml")
			if c.registry != "" {
				os.WriteFile(regPath, []byte(strings.ReplaceAll(c.registry, "DIR", p.Dir())), 0o600)
			}
			o := &Orchestrator{Registry: &registry.Store{Path: regPath}}
			opts := c.opts
			opts.DryRun = true
			res, err := o.ReconcilePorts(t.Context(), p, opts)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, svc := range []string{"db", "web"} {
				s := svc
				for _, b := range res.Bindings[svc] {
					s += " " + b.HostIP + ":" + itoa(b.Port) + ":" + itoa(b.Target)
				}
				parts = append(parts, s)
			}
			if got := strings.Join(parts, " | "); got != c.want {
				t.Fatalf("bindings %q, want %q", got, c.want)
			}
			warn := strings.Join(res.Warnings, "\n")
			if c.warn != "" && !strings.Contains(warn, c.warn) {
				t.Fatalf("warnings %q lack %q", warn, c.warn)
			}
			if _, ok := res.Bindings["api"]; ok {
				t.Fatal("host services get no container binding")
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// judges: which holders bear on a claim, by the claim's engine and the
// engine in use.
func TestJudges(t *testing.T) {
	proc := registry.Holder{Kind: "process", PID: 7, Command: "beam.smp"}
	proxy := registry.Holder{Kind: "process", PID: 8, Command: "/usr/bin/docker-proxy -proto tcp -host-port 5434"}
	localCt := registry.Holder{Kind: "container", Container: "a-db-1", Project: "a"}
	remoteCt := registry.Holder{Kind: "container", Container: "b-db-1", Project: "b", Engine: "tcp://box:2375", EngineID: "BOX"}
	remoteProc := registry.Holder{Kind: "process", Engine: "tcp://box:2375", EngineID: "BOX"}
	for _, c := range []struct {
		inUse, claim string
		h            registry.Holder
		want         bool
	}{
		{"", "", proc, true},
		{"", "", proxy, true},
		{"", "", localCt, true},
		{"", "BOX", proc, true},    // the remote project's port is forwarded here
		{"", "BOX", localCt, true}, // a local container on it blocks the forward
		{"BOX", "BOX", remoteCt, true},
		{"BOX", "BOX", remoteProc, true},
		{"BOX", "BOX", proc, true},
		{"BOX", "", proc, true},                              // a host service's or a stranger's
		{"BOX", "", proxy, false},                            // the local engine's, for its own container
		{"BOX", "", registry.Holder{Kind: "process"}, false}, // one devenv cannot see: maybe the proxy
		{"BOX", "", registry.Holder{Kind: "process", PID: 9, Command: "/usr/bin/limactl hostagent"}, false}, // Lima's
		{"BOX", "", registry.Holder{Kind: "process", PID: 9, Command: "beam.smp -- docker-proxy"}, true},    // names it, is not it
		{"BOX", "", remoteCt, false}, // the remote engine's
		{"BOX", "OTHER", proc, true},
		{"BOX", "OTHER", remoteCt, false},
		{"BOX", "OTHER", remoteProc, false},
	} {
		o := &Orchestrator{EngineKey: c.inUse}
		if got := o.judges(c.claim, c.h); got != c.want {
			t.Errorf("in use %q, claim on %q, holder %s: %v, want %v", c.inUse, c.claim, c.h, got, c.want)
		}
	}
}
