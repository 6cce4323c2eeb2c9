package docker

import (
	"slices"
	"testing"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// Short-syntax binds keep compose's options: a missing host path is created
// by the engine (legacy Binds), :z/:Z relabel, propagation applies.
func TestHostConfigBindOptions(t *testing.T) {
	spec := orchestrator.ContainerSpec{Mounts: []orchestrator.Mount{
		{Type: "bind", Source: "/src/pgdata", Target: "/var/lib/postgresql/data", CreateHostPath: true},
		{Type: "bind", Source: "/src/conf", Target: "/etc/app", ReadOnly: true, SELinux: "Z", CreateHostPath: true, Propagation: "rslave"},
		{Type: "bind", Source: "/src/exact", Target: "/exact", Propagation: "shared"},
		{Type: "volume", Source: "demo_data", Target: "/data"},
	}}
	hc, err := hostConfig(spec, &container.Config{ExposedPorts: network.PortSet{}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/src/pgdata:/var/lib/postgresql/data", "/src/conf:/etc/app:ro,Z,rslave"}
	if !slices.Equal(hc.Binds, want) {
		t.Fatalf("binds %v, want %v", hc.Binds, want)
	}
	if len(hc.Mounts) != 2 || hc.Mounts[0].BindOptions == nil || hc.Mounts[0].BindOptions.Propagation != mount.PropagationShared || hc.Mounts[1].Source != "demo_data" {
		t.Fatalf("mounts %+v", hc.Mounts)
	}
}

func TestHostConfigPorts(t *testing.T) {
	cfg := &container.Config{ExposedPorts: network.PortSet{}}
	hc, err := hostConfig(orchestrator.ContainerSpec{Ports: []orchestrator.PortBinding{
		{HostIP: "127.0.0.1", HostPort: "8080", Target: 80, Protocol: "tcp"},
		{HostIP: "127.0.0.1", HostPort: "8081", Target: 80, Protocol: "tcp"},
	}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := network.ParsePort("80/tcp")
	if len(hc.PortBindings[p]) != 2 || len(cfg.ExposedPorts) != 1 {
		t.Fatalf("bindings %+v exposed %+v", hc.PortBindings, cfg.ExposedPorts)
	}
	if _, err := hostConfig(orchestrator.ContainerSpec{Ports: []orchestrator.PortBinding{{HostIP: "nope", HostPort: "1", Target: 1, Protocol: "tcp"}}}, cfg); err == nil {
		t.Fatal("a bad host IP was accepted")
	}
}
