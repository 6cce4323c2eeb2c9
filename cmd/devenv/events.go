package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/urfave/cli/v2"
)

// eventsOptions are events' flags and services.
type eventsOptions struct {
	Services     []string
	JSON         bool
	Since, Until string
}

func newEventsCmd(a *app) *cli.Command {
	o := &eventsOptions{}
	return &cli.Command{
		Name:      "events",
		Usage:     "stream the project's container events",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv events --json\n   devenv events postgres",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per event, as compose prints them", Destination: &o.JSON},
			&cli.StringFlag{Name: "since", Usage: "events since a timestamp or a duration before now", Destination: &o.Since},
			&cli.StringFlag{Name: "until", Usage: "stream until a timestamp or a duration", Destination: &o.Until},
		},
		Action: func(c *cli.Context) error {
			o.Services = c.Args().Slice()
			return runEvents(c.Context, a, o)
		},
	}
}

func runEvents(ctx context.Context, a *app, o *eventsOptions) error {
	p, orch, err := a.readOnlyProject(ctx)
	if err != nil {
		return err
	}
	w := a.rawStdout
	err = orch.Events(ctx, p, orchestrator.EventsOptions{Services: o.Services, Since: o.Since, Until: o.Until},
		func(ev orchestrator.ProjectEvent) error { return writeEvent(w, ev, o.JSON) })
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// eventJSON is compose's events --json object.
type eventJSON struct {
	Action     string            `json:"action"`
	Attributes map[string]string `json:"attributes"`
	ID         string            `json:"id"`
	Service    string            `json:"service"`
	Time       string            `json:"time"`
	Type       string            `json:"type"`
}

func writeEvent(w io.Writer, ev orchestrator.ProjectEvent, asJSON bool) error {
	attrs := map[string]string{}
	for k, v := range ev.Attributes {
		if !strings.HasPrefix(k, "com.docker.compose.") {
			attrs[k] = v
		}
	}
	if asJSON {
		return json.NewEncoder(w).Encode(eventJSON{Action: ev.Action, Attributes: attrs, ID: ev.ID, Service: ev.Service,
			Time: ev.Time.UTC().Format(time.RFC3339Nano), Type: ev.Type})
	}
	var parts []string
	for _, k := range []string{"image", "name"} {
		if v, ok := attrs[k]; ok {
			parts = append(parts, k+"="+v)
			delete(attrs, k)
		}
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+attrs[k])
	}
	_, err := fmt.Fprintf(w, "%s %s %s %s (%s)\n\n", ev.Time.Local().Format("2006-01-02 15:04:05.000000"), ev.Type, ev.Action, ev.ID, strings.Join(parts, ", "))
	return err
}
