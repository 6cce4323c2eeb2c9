package main

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

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
