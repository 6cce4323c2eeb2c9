package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
	"github.com/devenv-dev/devenv/orchestrator/archive"
	"github.com/moby/moby/client"
)

// BenchmarkEventsLatency: how long after the engine's own timestamp of an
// event `devenv events --json` prints it (the target is under 100 ms).
//
//	go test -run '^$' -bench EventsLatency -benchtime 5x ./cmd/devenv
func BenchmarkEventsLatency(b *testing.B) {
	c, image, h, project := serverProject(b)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(b), freePort(b), ""))
	if r := h.run("up"); r.code != 0 {
		b.Fatal(r)
	}
	defer h.run("down")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		runIn(ctx, h.dir, []string{"devenv", "events", "--json"}, h.env, nil, pw, io.Discard)
		pw.Close()
	}()
	dec := json.NewDecoder(pr)
	time.Sleep(500 * time.Millisecond)
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		if _, err := c.ContainerPause(context.Background(), project+"-web-1", client.ContainerPauseOptions{}); err != nil {
			b.Fatal(err)
		}
		for {
			var ev eventJSON
			if err := dec.Decode(&ev); err != nil {
				b.Fatal(err)
			}
			if ev.Action == "pause" {
				at, _ := time.Parse(time.RFC3339Nano, ev.Time)
				total += time.Since(at)
				break
			}
		}
		c.ContainerUnpause(context.Background(), project+"-web-1", client.ContainerUnpauseOptions{})
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/event")
}

// BenchmarkCp100MiB times devenv cp of a 100 MiB file into a container and
// back, beside docker compose cp (the target is within 1.5×).
//
//	go test -run '^$' -bench Cp100MiB -benchtime 3x ./cmd/devenv
func BenchmarkCp100MiB(b *testing.B) {
	composeV2(b)
	_, image, h, project := serverProject(b)
	h.write("docker-compose.dev.yml", twoServices(image, project, freePort(b), freePort(b), ""))
	if r := h.run("up"); r.code != 0 {
		b.Fatal(r)
	}
	defer h.run("down")
	big := filepath.Join(h.dir, "big.bin")
	f, _ := os.Create(big)
	io.CopyN(f, rand.Reader, 100<<20)
	f.Close()
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	var devenvT, composeT time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		h.run("cp", big, "api:/data/big.bin")
		h.run("cp", "api:/data/big.bin", filepath.Join(h.dir, "back.bin"))
		devenvT += time.Since(start)
		start = time.Now()
		runCompose(b, h.dir, env, "cp", big, "api:/data/big2.bin")
		runCompose(b, h.dir, env, "cp", "api:/data/big2.bin", filepath.Join(h.dir, "back2.bin"))
		composeT += time.Since(start)
	}
	b.ReportMetric(float64(devenvT.Milliseconds())/float64(b.N), "devenv-ms/op")
	b.ReportMetric(float64(composeT.Milliseconds())/float64(b.N), "compose-ms/op")
	b.ReportMetric(float64(devenvT)/float64(composeT), "ratio")
}

// BenchmarkExec times devenv exec -T db true and devenv connect --url
// against docker compose exec -T db true on the same PostgreSQL project,
// each a whole command (devenv in-process, compose as the CLI plugin).
//
//	go test -run '^$' -bench 'BenchmarkExec$' -benchtime 10x ./cmd/devenv
func BenchmarkExec(b *testing.B) {
	composeV2(b)
	c := testbed.Engine(b)
	testbed.RequireImages(b, "postgres:15", "redis:7")
	h := newHarness(b)
	project := projectName(b)
	cleanupProject(b, c, project)
	h.write("docker-compose.dev.yml", dataProject(project, freePort(b), freePort(b), freePort(b)))
	if r := h.run("up", "db"); r.code != 0 {
		b.Fatal(r)
	}
	defer h.run("down")
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml"}
	var execT, urlT, composeT time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if r := h.run("exec", "-T", "db", "true"); r.code != 0 {
			b.Fatal(r)
		}
		execT += time.Since(start)
		start = time.Now()
		if r := h.run("connect", "--url", "db"); r.code != 0 {
			b.Fatal(r)
		}
		urlT += time.Since(start)
		start = time.Now()
		if _, err := runCompose(b, h.dir, env, "exec", "-T", "db", "true"); err != nil {
			b.Fatal(err)
		}
		composeT += time.Since(start)
	}
	b.ReportMetric(float64(execT.Microseconds())/1000/float64(b.N), "exec-ms/op")
	b.ReportMetric(float64(urlT.Microseconds())/1000/float64(b.N), "connect-url-ms/op")
	b.ReportMetric(float64(composeT.Microseconds())/1000/float64(b.N), "compose-exec-ms/op")
}

// BenchmarkBuildContext builds a context of 5,000 small files and a 50 MiB
// file with devenv build and with docker compose build (both the classic
// builder) on the same engine, and times the context's tarring alone: it
// must not be the bottleneck.
//
//	go test -run '^$' -bench BuildContext -benchtime 3x ./cmd/devenv
func BenchmarkBuildContext(b *testing.B) {
	composeV2(b)
	c := testbed.Engine(b)
	h := newHarness(b)
	project := projectName(b)
	cleanupProject(b, c, project)
	b.Cleanup(func() { c.ImageRemove(context.Background(), project+"-big", client.ImageRemoveOptions{Force: true}) })
	for i := range 5000 {
		h.write(fmt.Sprintf("ctx/files/%02d/f%04d.txt", i%50, i), fmt.Sprintf("file %d\n", i))
	}
	big, _ := os.Create(filepath.Join(h.dir, "ctx", "big.bin"))
	io.CopyN(big, rand.Reader, 50<<20)
	big.Close()
	h.write("ctx/Dockerfile", "FROM scratch\nCOPY . /ctx/\n")
	h.write("docker-compose.dev.yml", fmt.Sprintf("name: %s\nservices:\n  big:\n    build: {context: ./ctx, no_cache: true}\n", project))
	env := []string{"COMPOSE_FILE=docker-compose.dev.yml", "DOCKER_BUILDKIT=0"}
	var devenvT, composeT, packT, firstStep time.Duration
	var sent int64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var st archive.ContextStats
		r, _, err := archive.PackContext(archive.BuildContext{Dir: filepath.Join(h.dir, "ctx")}, &st)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, r)
		packT += time.Since(start)
		sent = n
		start = time.Now()
		r2 := h.run("build", "--progress", "json", "big")
		if r2.code != 0 {
			b.Fatal(r2)
		}
		devenvT += time.Since(start)
		// Time to the first build step: when the engine had the context.
		for _, line := range strings.Split(r2.stderr, "\n") {
			var ev struct{ Time, Detail string }
			if json.Unmarshal([]byte(line), &ev) == nil && strings.HasPrefix(ev.Detail, "Step 1/") {
				at, _ := time.Parse(time.RFC3339Nano, ev.Time)
				firstStep += at.Sub(start)
				break
			}
		}
		start = time.Now()
		if out, err := runCompose(b, h.dir, env, "build", "-q", "big"); err != nil {
			b.Fatal(err, out)
		}
		composeT += time.Since(start)
	}
	b.ReportMetric(float64(sent)/(1<<20), "context-MiB")
	b.ReportMetric(float64(packT.Milliseconds())/float64(b.N), "tar-ms/op")
	b.ReportMetric(float64(devenvT.Milliseconds())/float64(b.N), "devenv-ms/op")
	b.ReportMetric(float64(firstStep.Milliseconds())/float64(b.N), "devenv-first-step-ms/op")
	b.ReportMetric(float64(composeT.Milliseconds())/float64(b.N), "compose-ms/op")
}
