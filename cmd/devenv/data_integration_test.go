package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/probe"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/devenv-dev/devenv/orchestrator/docker"
	"github.com/moby/moby/client"
)

func pgProject(project string, port int, extra string) string {
	return fmt.Sprintf(`name: %s
services:
  db:
    image: postgres:15
    environment:
      POSTGRES_PASSWORD: devpass-%s
      POSTGRES_DB: app%s
    ports: ["%d:5432"]
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U postgres -d app"]
      interval: 5s
      timeout: 3s
      retries: 20
volumes:
  pgdata:
`, project, project, extra, port)
}

// psql runs SQL in the project's db container through the Engine API.
func psql(t *testing.T, project, sql string) string {
	t.Helper()
	ep, err := docker.Resolve(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := docker.New(ep, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	cs, err := eng.Containers(ctx, orchestrator.ListFilter{Labels: []string{"com.docker.compose.project=" + project, "com.docker.compose.service=db"}})
	if err != nil || len(cs) != 1 {
		t.Fatalf("db container: %v %v", cs, err)
	}
	res, err := eng.Exec(ctx, cs[0].ID, []string{"psql", "-U", "postgres", "-d", "app", "-tAc", sql})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("psql %q: %v %d %s", sql, err, res.ExitCode, res.Output)
	}
	return strings.TrimSpace(res.Output)
}

func TestIntegrationPostgresDataSurvives(t *testing.T) {
	c := testbed.Engine(t)
	testbed.RequireImages(t, "postgres:15")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	port := freePort(t)
	h.write("docker-compose.dev.yml", pgProject(project, port, ""))
	r := h.must("up", "--progress", "plain")
	if strings.Contains(r.stderr, "devpass-"+project) {
		t.Fatalf("password printed in progress:\n%s", r.stderr)
	}
	psql(t, project, "CREATE TABLE keep (v text); INSERT INTO keep VALUES ('precious')")
	check := func(step string) {
		t.Helper()
		if got := psql(t, project, "SELECT v FROM keep"); got != "precious" {
			t.Fatalf("after %s the row is gone: %q", step, got)
		}
	}
	h.must("down")
	h.must("up")
	check("down + up")
	h.must("stop")
	h.must("up")
	check("stop + up")
	h.must("up", "--force-recreate")
	check("up --force-recreate")
	h.write("docker-compose.dev.yml", strings.Replace(pgProject(project, port, ""), "retries: 20", "retries: 21", 1))
	r = h.must("up", "--progress", "plain")
	if !strings.Contains(r.stderr, "Recreat") {
		t.Fatalf("config edit did not recreate:\n%s", r.stderr)
	}
	check("a config edit that recreates")

	// Ctrl-C in the middle of up (a recreate), then up again.
	h.write("docker-compose.dev.yml", strings.Replace(pgProject(project, port, ""), "retries: 20", "retries: 22", 1))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	r = h.runCtx(ctx, "up")
	if r.code != 130 && r.code != 0 {
		t.Fatalf("interrupted up: %s", r)
	}
	h.must("up")
	check("an interrupted up")

	// A volume labelled for another project is never removed by down -v.
	other := projectName(t)
	cleanupProject(t, c, other)
	if _, err := c.VolumeCreate(context.Background(), client.VolumeCreateOptions{Name: other + "_pgdata", Labels: map[string]string{"com.docker.compose.project": other, "com.docker.compose.volume": "pgdata"}}); err != nil {
		t.Fatal(err)
	}
	h.must("down", "-v")
	vols, _ := c.VolumeList(context.Background(), client.VolumeListOptions{})
	var names []string
	for _, v := range vols.Items {
		names = append(names, v.Name)
	}
	all := strings.Join(names, " ")
	if strings.Contains(all, project+"_pgdata") || !strings.Contains(all, other+"_pgdata") {
		t.Fatalf("down -v must remove only this project's volume: %s", all)
	}
}

// TestIntegrationPostgresProtocolCheck tells a real PostgreSQL from a closed
// port and from a plain TCP listener.
func TestIntegrationPostgresProtocolCheck(t *testing.T) {
	c := testbed.Engine(t)
	testbed.RequireImages(t, "postgres:15")
	h := newHarness(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	port := freePort(t)
	h.write("docker-compose.dev.yml", pgProject(project, port, ""))
	h.must("up")
	ctx := context.Background()
	if st, detail := probe.Postgres(ctx, fmt.Sprintf("127.0.0.1:%d", port), "postgres", "app"); st != "healthy" {
		t.Fatalf("real PostgreSQL: %s %s", st, detail)
	}
	closed := freePort(t)
	if st, _ := probe.Postgres(ctx, fmt.Sprintf("127.0.0.1:%d", closed), "postgres", ""); st != "down" {
		t.Fatalf("closed port: %s", st)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			conn.Close()
		}
	}()
	if st, detail := probe.Postgres(ctx, ln.Addr().String(), "postgres", ""); st != "unhealthy" || !strings.Contains(detail, "not PostgreSQL") {
		t.Fatalf("plain TCP listener: %s %s", st, detail)
	}
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if st, _ := probe.Postgres(cctx, silent.Addr().String(), "postgres", ""); st != "unhealthy" {
		t.Fatalf("silent listener: %s", st)
	}
	// health uses the protocol check for the postgres role.
	r := h.must("health", "--format", "json")
	if !strings.Contains(r.stdout, `"service":"db","kind":"container","check":"postgres","status":"healthy"`) {
		t.Fatalf("health:\n%s", r.stdout)
	}
	// doctor: published on all interfaces with a default password is an error.
	h.write("docker-compose.dev.yml", strings.Replace(strings.Replace(pgProject(project, port, ""), "devpass-"+project, "postgres", 1), "name: "+project, "name: "+project+"\nx-devenv: {publish: all}", 1))
	r = h.must("up", "--progress", "plain")
	if !strings.Contains(r.stderr, "on all interfaces") {
		t.Errorf("no warning for an exposed database:\n%s", r.stderr)
	}
	r = h.run("doctor")
	if r.code != 1 || !strings.Contains(r.stdout, "publishes "+fmt.Sprint(port)+" on all interfaces with a default password") {
		t.Fatalf("doctor must flag the exposed database:\n%s", r)
	}
}

// TestIntegrationDoctorUncoveredVolume: an image VOLUME that no named volume
// covers is flagged (data would live in an anonymous volume).
func TestIntegrationDoctorUncoveredVolume(t *testing.T) {
	_, image, h, project := serverProject(t)
	h.write("docker-compose.dev.yml", fmt.Sprintf("name: %s\nservices:\n  bare:\n    image: %s\n  covered:\n    image: %s\n    volumes: [\"data:/data\"]\nvolumes:\n  data:\n", project, image, image))
	r := h.run("doctor")
	if !strings.Contains(r.stdout, "service bare: image "+image+" keeps data in VOLUME /data") {
		t.Fatalf("doctor must flag the uncovered VOLUME:\n%s", r)
	}
	if strings.Contains(r.stdout, "service covered:") {
		t.Fatalf("doctor flagged a covered VOLUME:\n%s", r)
	}
}
