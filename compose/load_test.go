package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func load(t *testing.T, dir string, o Options) (*Project, error) {
	t.Helper()
	if o.WorkingDir == "" {
		o.WorkingDir = dir
	}
	o.Environ = append(o.Environ, "PATH=/usr/bin")
	return Load(context.Background(), o)
}

func TestLoadFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yml")
	if len(files) < 15 {
		t.Fatalf("want fixtures, got %d", len(files))
	}
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			p, err := load(t, filepath.Dir(abs), Options{Files: []string{abs}, ProjectName: "fixture"})
			if strings.HasPrefix(name, "valid-") {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if len(p.Model.Services) == 0 {
					t.Fatal("no services")
				}
				return
			}
			if err == nil {
				t.Fatal("loaded an invalid file")
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error is not a configuration error: %v", err)
			}
			data, _ := os.ReadFile(abs)
			want := strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[0], "# want: ")
			msg := err.Error()
			if !strings.Contains(msg, name) {
				t.Errorf("message does not name the file %s: %s", name, msg)
			}
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not contain %q", msg, want)
			}
		})
	}
}

func TestPortRequests(t *testing.T) {
	abs, _ := filepath.Abs("testdata/valid-long-ports.yml")
	p, err := load(t, filepath.Dir(abs), Options{Files: []string{abs}, ProjectName: "ports"})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := p.PortRequests()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reqs {
		got = append(got, strings.Join([]string{r.Service, r.HostIP, strconv.Itoa(r.Port), strconv.Itoa(r.PortEnd), strconv.Itoa(r.Target), r.Protocol}, " "))
	}
	want := []string{
		"web 127.0.0.1 8080 0 80 tcp",
		"web 127.0.0.1 8443 0 443 tcp",
		"web  9000 0 9000 tcp",
		"web  9001 0 9001 tcp",
		"web  9002 0 9002 tcp",
		"web  53 0 53 udp",
		"web  0 0 3000 tcp",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDefaultFileSearchAndPrecedence(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "deep", "er")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "docker-compose.dev.yml"), "services:\n  dev:\n    image: alpine\n    ports: [\"${P:-7001}:80\"]\n")
	write(filepath.Join(root, "compose.yaml"), "services:\n  prod:\n    image: alpine\n")
	write(filepath.Join(root, ".env"), "P=7002\nCOMPOSE_PROJECT_NAME=fromdotenv\n")

	p, err := load(t, sub, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Model.Services["dev"]; !ok {
		t.Fatalf("did not pick docker-compose.dev.yml from a parent: %v", p.Model.ServiceNames())
	}
	if got := p.Model.Services["dev"].Ports[0].Published; got != "7002" {
		t.Errorf(".env interpolation: published %q, want 7002", got)
	}
	if p.Name() != "fromdotenv" {
		t.Errorf("COMPOSE_PROJECT_NAME from .env: name %q", p.Name())
	}
	p, err = load(t, sub, Options{Environ: []string{"COMPOSE_PROJECT_NAME=fromenv", "P=7003"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "fromenv" || p.Model.Services["dev"].Ports[0].Published != "7003" {
		t.Errorf("environment must win over .env: %s %s", p.Name(), p.Model.Services["dev"].Ports[0].Published)
	}
	p, err = load(t, sub, Options{ProjectName: "fromflag", Environ: []string{"COMPOSE_PROJECT_NAME=fromenv"}})
	if err != nil || p.Name() != "fromflag" {
		t.Errorf("-p must win: %v %v", p, err)
	}
	// COMPOSE_FILE selects another file.
	p, err = load(t, root, Options{Environ: []string{"COMPOSE_FILE=compose.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Model.Services["prod"]; !ok {
		t.Errorf("COMPOSE_FILE ignored: %v", p.Model.ServiceNames())
	}
	// -f merges in order.
	write(filepath.Join(root, "override.yml"), "services:\n  dev:\n    image: busybox\n")
	p, err = load(t, root, Options{Files: []string{"docker-compose.dev.yml", "override.yml"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Model.Services["dev"].Image != "busybox" {
		t.Errorf("merge: image %q", p.Model.Services["dev"].Image)
	}
	// Without a name, the directory names the project, normalised.
	named := filepath.Join(t.TempDir(), "My.Project")
	os.MkdirAll(named, 0o755)
	write(filepath.Join(named, "docker-compose.dev.yml"), "services:\n  a:\n    image: alpine\n")
	p, err = load(t, named, Options{})
	if err != nil || p.Name() != "myproject" {
		t.Errorf("name from directory: %v %v", p.Name(), err)
	}
}

func TestBadInputsNameFileAndKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "docker-compose.dev.yml")
	os.WriteFile(good, []byte("services:\n  a:\n    image: alpine\n    profiles: [x]\n  b:\n    image: alpine\n"), 0o644)
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"missing file", Options{Files: []string{filepath.Join(dir, "nope.yml")}}, "nope.yml"},
		{"bad project name", Options{ProjectName: "../x"}, "project name"},
		{"no file anywhere", Options{WorkingDir: "/"}, "no docker-compose.dev.yml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, dir, c.o)
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a config error containing %q", err, c.want)
			}
		})
	}
	p, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SelectServices([]string{"a"}); err == nil || !strings.Contains(err.Error(), "services.a") || !strings.Contains(err.Error(), "profile") {
		t.Errorf("service behind a profile: %v", err)
	}
	if _, err := p.SelectServices([]string{"zzz"}); err == nil || !strings.Contains(err.Error(), "zzz") || !errors.Is(err, ErrConfig) {
		t.Errorf("unknown service: %v", err)
	}
}

func TestAllowMissingNeedsAName(t *testing.T) {
	dir := t.TempDir()
	p, err := load(t, dir, Options{ProjectName: "byname", AllowMissing: true})
	if err != nil || p.Name() != "byname" || len(p.Model.Services) != 0 {
		t.Fatalf("by name: %v %v", p, err)
	}
	if _, err := load(t, dir, Options{AllowMissing: true}); err == nil {
		t.Fatal("no file and no name must fail")
	}
	if got, err := p.SelectServices([]string{"web"}); err != nil || got[0] != "web" {
		t.Fatalf("services by name without a file: %v %v", got, err)
	}
}
