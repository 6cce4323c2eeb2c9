package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devenv-dev/devenv/internal/errdefs"
	"github.com/devenv-dev/devenv/internal/testproject"
	"github.com/devenv-dev/devenv/orchestrator/engine"

	"github.com/devenv-dev/devenv/compose"
)

const planFile = `name: demo
services:
  db:
    image: postgres:15
    ports: ["5434:5432"]
    volumes: [pgdata:/var/lib/postgresql/data]
  api:
    image: demo/api:dev
    ports: ["4000:4000"]
    depends_on:
      db: {condition: service_healthy}
  worker:
    image: demo/api:dev
    container_name: demo_worker
volumes:
  pgdata:
`

func desired(t *testing.T, p *compose.Project) *Desired {
	t.Helper()
	b := Bindings{}
	reqs, _ := p.PortRequests()
	for _, r := range reqs {
		b[r.Service] = append(b[r.Service], Binding{Service: r.Service, Target: r.Target, Protocol: r.Protocol, HostIP: "127.0.0.1", Port: r.Port})
	}
	d, err := BuildDesired(p, b, "test")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// observedFrom pretends the engine has the desired containers running.
func observedFrom(d *Desired, images map[string]string) *Observed {
	o := &Observed{Images: images, Foreign: map[string]Container{}}
	for name, ds := range d.Services {
		labels := map[string]string{}
		for k, v := range ds.Spec.Labels {
			labels[k] = v
		}
		labels[LabelImage] = images[engine.NormalizeRef(ds.Spec.Image)]
		mounts := append([]Mount(nil), ds.Spec.Mounts...)
		o.Containers = append(o.Containers, Container{ID: "id-" + name, Name: ds.Spec.Name, Labels: labels, State: "running", Mounts: mounts, Ports: append([]PortBinding(nil), ds.Spec.Ports...)})
	}
	for _, n := range d.Networks {
		o.Networks = append(o.Networks, Network{Name: n.Spec.Name})
	}
	for _, v := range d.Volumes {
		o.Volumes = append(o.Volumes, Volume{Name: v.Spec.Name})
	}
	return o
}

var images = map[string]string{"postgres:15": "sha256:pg", "demo/api:dev": "sha256:api"}

func TestPlanUp(t *testing.T) {
	p := testproject.Load(t, planFile)
	d := desired(t, p)
	all := Closure(d, p.Model.ServiceNames(), false)
	cases := []struct {
		name    string
		observe func() *Observed
		opts    PlanOptions
		want    string
		err     string
	}{
		{"fresh", func() *Observed { return &Observed{Images: images, Foreign: map[string]Container{}} }, PlanOptions{}, `create network demo_default
create volume demo_pgdata
create db (demo-db-1): new
create api (demo-api-1): new
create worker (demo_worker): new`, ""},
		{"missing image is pulled", func() *Observed {
			return &Observed{Images: map[string]string{"postgres:15": "sha256:pg"}, Foreign: map[string]Container{}}
		}, PlanOptions{}, `create network demo_default
create volume demo_pgdata
pull api demo/api:dev: not present
create db (demo-db-1): new
create api (demo-api-1): new
create worker (demo_worker): new`, ""},
		{"missing image with --pull never", func() *Observed {
			return &Observed{Images: map[string]string{"postgres:15": "sha256:pg"}, Foreign: map[string]Container{}}
		}, PlanOptions{Pull: "never"}, "", "image demo/api:dev is not present"},
		{"unchanged", func() *Observed { return observedFrom(d, images) }, PlanOptions{}, `keep db (demo-db-1): up to date
keep api (demo-api-1): up to date
keep worker (demo_worker): up to date`, ""},
		{"stopped container starts", func() *Observed {
			o := observedFrom(d, images)
			for i := range o.Containers {
				if o.Containers[i].Labels[LabelService] == "db" {
					o.Containers[i].State = "exited"
				}
			}
			return o
		}, PlanOptions{}, `start db (demo-db-1): exited
keep api (demo-api-1): up to date
keep worker (demo_worker): up to date`, ""},
		{"changed config recreates one", func() *Observed {
			o := observedFrom(d, images)
			for i := range o.Containers {
				if o.Containers[i].Labels[LabelService] == "api" {
					o.Containers[i].Labels[LabelConfigHash] = "old"
				}
			}
			return o
		}, PlanOptions{}, `keep db (demo-db-1): up to date
recreate api (demo-api-1): configuration changed
keep worker (demo_worker): up to date`, ""},
		{"new image recreates", func() *Observed {
			o := observedFrom(d, map[string]string{"postgres:15": "sha256:pg", "demo/api:dev": "sha256:old"})
			o.Images = images
			return o
		}, PlanOptions{}, `keep db (demo-db-1): up to date
recreate api (demo-api-1): image changed
recreate worker (demo_worker): image changed`, ""},
		{"remapped port recreates", func() *Observed {
			o := observedFrom(d, images)
			setPorts(o, "db", PortBinding{HostIP: "127.0.0.1", HostPort: "5432", Target: 5432, Protocol: "tcp"})
			return o
		}, PlanOptions{}, `recreate db (demo-db-1): published ports changed
keep api (demo-api-1): up to date
keep worker (demo_worker): up to date`, ""},
		{"compose-made container on all interfaces is recreated on 127.0.0.1", func() *Observed {
			o := observedFrom(d, images)
			for i := range o.Containers {
				delete(o.Containers[i].Labels, LabelPorts)
			}
			setPorts(o, "db", PortBinding{HostIP: "0.0.0.0", HostPort: "5434", Target: 5432, Protocol: "tcp"}, PortBinding{HostIP: "::", HostPort: "5434", Target: 5432, Protocol: "tcp"})
			return o
		}, PlanOptions{}, `recreate db (demo-db-1): published ports changed
keep api (demo-api-1): up to date
keep worker (demo_worker): up to date`, ""},
		{"stopped compose-made container with its old host port is recreated", func() *Observed {
			o := observedFrom(d, images)
			setPorts(o, "api", PortBinding{HostIP: "127.0.0.1", HostPort: "4001", Target: 4000, Protocol: "tcp"})
			setState(o, "api", "exited")
			return o
		}, PlanOptions{}, `keep db (demo-db-1): up to date
recreate api (demo-api-1): published ports changed
keep worker (demo_worker): up to date`, ""},
		{"leftover of an interrupted recreate is removed", func() *Observed {
			o := observedFrom(d, images)
			o.Containers = append(o.Containers, Container{ID: "old", Name: "0123456789ab_demo-db-1", State: "exited", Labels: map[string]string{LabelService: "db", LabelProject: "demo", LabelNumber: "1"}})
			return o
		}, PlanOptions{}, `remove leftover db (0123456789ab_demo-db-1): left by an interrupted recreate
keep db (demo-db-1): up to date
keep api (demo-api-1): up to date
keep worker (demo_worker): up to date`, ""},
		{"pull always of an unchanged image recreates nothing", func() *Observed { return observedFrom(d, images) }, PlanOptions{Pull: "always"}, `pull api demo/api:dev: pull policy always
pull db postgres:15: pull policy always
keep db (demo-db-1): up to date
keep api (demo-api-1): up to date
keep worker (demo_worker): up to date`, ""},
		{"force recreate", func() *Observed { return observedFrom(d, images) }, PlanOptions{ForceRecreate: true}, `recreate db (demo-db-1): --force-recreate
recreate api (demo-api-1): --force-recreate
recreate worker (demo_worker): --force-recreate`, ""},
		{"orphan warned", func() *Observed {
			o := observedFrom(d, images)
			o.Containers = append(o.Containers, Container{ID: "x", Name: "demo-old-1", Labels: map[string]string{LabelService: "old", LabelProject: "demo"}})
			return o
		}, PlanOptions{}, `keep db (demo-db-1): up to date
keep api (demo-api-1): up to date
keep worker (demo_worker): up to date
orphan old (demo-old-1): not in the compose file; --remove-orphans removes it`, ""},
		{"orphan removed", func() *Observed {
			o := observedFrom(d, images)
			o.Containers = append(o.Containers, Container{ID: "x", Name: "demo-old-1", Labels: map[string]string{LabelService: "old", LabelProject: "demo"}})
			return o
		}, PlanOptions{RemoveOrphans: true}, `keep db (demo-db-1): up to date
keep api (demo-api-1): up to date
keep worker (demo_worker): up to date
remove orphan old (demo-old-1)`, ""},
		{"foreign container name", func() *Observed {
			o := &Observed{Images: images, Foreign: map[string]Container{"demo_worker": {Name: "demo_worker"}}}
			return o
		}, PlanOptions{}, "", `container name "demo_worker" is taken by a container that has no compose labels`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts
			opts.Services = all
			plan, err := PlanUp(d, c.observe(), opts)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, errdefs.ErrInvalid) {
					t.Fatalf("got %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := plan.String(); got != c.want {
				t.Fatalf("plan:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

func setPorts(o *Observed, service string, ports ...PortBinding) {
	for i := range o.Containers {
		if o.Containers[i].Labels[LabelService] == service {
			o.Containers[i].Ports = ports
		}
	}
}

func setState(o *Observed, service, state string) {
	for i := range o.Containers {
		if o.Containers[i].Labels[LabelService] == service {
			o.Containers[i].State = state
		}
	}
}

func TestSameBindings(t *testing.T) {
	pb := func(ip, port string, target int) PortBinding {
		return PortBinding{HostIP: ip, HostPort: port, Target: target, Protocol: "tcp"}
	}
	for _, c := range []struct {
		name       string
		want, have []PortBinding
		same       bool
	}{
		{"equal", []PortBinding{pb("127.0.0.1", "5434", 5432)}, []PortBinding{pb("127.0.0.1", "5434", 5432)}, true},
		{"other address", []PortBinding{pb("127.0.0.1", "5434", 5432)}, []PortBinding{pb("0.0.0.0", "5434", 5432)}, false},
		{"other port", []PortBinding{pb("127.0.0.1", "5436", 5432)}, []PortBinding{pb("127.0.0.1", "5434", 5432)}, false},
		{"all interfaces listed twice", []PortBinding{pb("", "80", 80)}, []PortBinding{pb("0.0.0.0", "80", 80), pb("::", "80", 80)}, true},
		{"engine-picked port", []PortBinding{pb("127.0.0.1", "", 80)}, []PortBinding{pb("127.0.0.1", "49153", 80)}, true},
		{"one target twice", []PortBinding{pb("127.0.0.1", "8080", 80), pb("127.0.0.1", "8081", 80)}, []PortBinding{pb("127.0.0.1", "8080", 80)}, false},
		{"exposed only", nil, []PortBinding{pb("", "", 80)}, true},
		{"missing binding", []PortBinding{pb("127.0.0.1", "80", 80)}, nil, false},
		{"one target on a host range, running", []PortBinding{pb("127.0.0.1", "8000-8010", 80)}, []PortBinding{pb("127.0.0.1", "8003", 80)}, true},
		{"one target on a host range, stopped", []PortBinding{pb("127.0.0.1", "8000-8010", 80)}, []PortBinding{pb("127.0.0.1", "8000-8010", 80)}, true},
		{"host range moved", []PortBinding{pb("127.0.0.1", "8000-8010", 80)}, []PortBinding{pb("127.0.0.1", "9000", 80)}, false},
		{"engine-picked port, stopped", []PortBinding{pb("127.0.0.1", "", 9000)}, []PortBinding{pb("127.0.0.1", "", 9000)}, true},
		{"extra binding", []PortBinding{pb("127.0.0.1", "80", 80)}, []PortBinding{pb("127.0.0.1", "80", 80), pb("127.0.0.1", "81", 81)}, false},
	} {
		if got := SameBindings(c.want, c.have); got != c.same {
			t.Errorf("%s: sameBindings = %v", c.name, got)
		}
	}
}

func TestPlanDecidesDependencyRestarts(t *testing.T) {
	p := testproject.Load(t, `name: demo
services:
  db:
    image: postgres:15
  api:
    image: demo/api:dev
    depends_on:
      db: {condition: service_started, restart: true}
`)
	d := desired(t, p)
	o := observedFrom(d, images)
	setState(o, "db", "exited")
	plan, err := PlanUp(d, o, PlanOptions{Services: []string{"api", "db"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "start db (demo-db-1): exited\nrestart api (demo-api-1): dependency db will be started"
	if plan.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", plan, want)
	}
}

func TestNormalizeRefDigests(t *testing.T) {
	for in, want := range map[string]string{
		"postgres":                    "postgres:latest",
		"docker.io/library/postgres":  "postgres:latest",
		"postgres@sha256:abc":         "postgres@sha256:abc",
		"postgres:15@sha256:abc":      "postgres@sha256:abc",
		"localhost:5000/x:1@sha256:a": "localhost:5000/x@sha256:a",
		"localhost:5000/x":            "localhost:5000/x:latest",
	} {
		if got := engine.NormalizeRef(in); got != want {
			t.Errorf("engine.NormalizeRef(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDuplicateContainerNameIsAConfigError(t *testing.T) {
	p := testproject.Load(t, "name: demo\nservices:\n  a:\n    image: x\n    container_name: same\n  b:\n    image: x\n    container_name: same\n")
	_, err := BuildDesired(p, Bindings{}, "test")
	if err == nil || !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), `"same"`) {
		t.Fatalf("got %v", err)
	}
}

func TestDesiredLabelsAndNames(t *testing.T) {
	p := testproject.Load(t, planFile)
	d := desired(t, p)
	api := d.Services["api"].Spec
	for k, want := range map[string]string{
		LabelProject: "demo", LabelService: "api", LabelNumber: "1", LabelOneoff: "False",
		LabelDependsOn: "db:service_healthy:false", LabelWorkingDir: p.Dir(), LabelConfigFiles: p.Files[0],
		LabelPorts: "127.0.0.1:4000:4000/tcp",
	} {
		if api.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, api.Labels[k], want)
		}
	}
	if api.Name != "demo-api-1" || d.Services["worker"].Spec.Name != "demo_worker" {
		t.Errorf("names: %s %s", api.Name, d.Services["worker"].Spec.Name)
	}
	if len(api.Networks) != 1 || api.Networks[0].Name != "demo_default" || api.Networks[0].Aliases[0] != "api" {
		t.Errorf("networks: %+v", api.Networks)
	}
	if m := d.Services["db"].Spec.Mounts; len(m) != 1 || m[0].Source != "demo_pgdata" {
		t.Errorf("mounts: %+v", m)
	}
	if got := Closure(d, []string{"api"}, false); strings.Join(got, ",") != "api,db" {
		t.Errorf("closure: %v", got)
	}
	if got := Closure(d, []string{"api"}, true); strings.Join(got, ",") != "api" {
		t.Errorf("closure --no-deps: %v", got)
	}
}

func TestCarryAnonymous(t *testing.T) {
	anon := strings.Repeat("a", 64)
	got := CarryAnonymous(
		[]Mount{{Type: "volume", Source: "demo_data", Target: "/data"}, {Type: "volume", Target: "/cache"}},
		[]Mount{{Type: "volume", Source: "demo_data", Target: "/data"}, {Type: "volume", Source: anon, Target: "/cache"}, {Type: "volume", Source: strings.Repeat("b", 64), Target: "/var/lib/x"}},
	)
	var s []string
	for _, m := range got {
		s = append(s, m.Source+":"+m.Target)
	}
	want := "demo_data:/data," + anon + ":/cache," + strings.Repeat("b", 64) + ":/var/lib/x"
	if strings.Join(s, ",") != want {
		t.Fatalf("got %s", strings.Join(s, ","))
	}
}

func BenchmarkPlanUp(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte(planFile), 0o644)
	p, err := compose.Load(context.Background(), compose.Options{WorkingDir: dir, Environ: []string{"PATH=/usr/bin"}})
	if err != nil {
		b.Fatal(err)
	}
	bind := Bindings{}
	d, _ := BuildDesired(p, bind, "bench")
	o := observedFrom(d, images)
	services := Closure(d, p.Model.ServiceNames(), false)
	for b.Loop() {
		if _, err := PlanUp(d, o, PlanOptions{Services: services}); err != nil {
			b.Fatal(err)
		}
	}
}
