package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

// inspectCommands are compose's top, images and volumes.
func inspectCommands(a *app) []*cli.Command {
	return []*cli.Command{
		{
			Name:      "top",
			Usage:     "the processes running in services' containers",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv top postgres",
			Action: func(c *cli.Context) error {
				p, o, err := a.readOnlyProject(c.Context)
				if err != nil {
					return err
				}
				titles, rows, err := o.Top(c.Context, p, c.Args().Slice())
				if err != nil || len(rows) == 0 {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "SERVICE\t#\t"+strings.Join(titles, "\t"))
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t1\t%s\n", r.Service, strings.Join(r.Values, "\t"))
				}
				return tw.Flush()
			},
		},
		inspectCommand(a, "images", "the images of the project's containers", "devenv images\n   devenv images --format json", "only image IDs",
			func(c *cli.Context, p *compose.Project, o *orchestrator.Orchestrator, format string) error {
				rows, err := o.Images(c.Context, p, c.Args().Slice())
				if err != nil {
					return err
				}
				return writeImages(a.stdout, rows, format, c.Bool("quiet"))
			}),
		inspectCommand(a, "volumes", "the project's volumes", "devenv volumes\n   devenv volumes -q postgres", "only volume names",
			func(c *cli.Context, p *compose.Project, o *orchestrator.Orchestrator, format string) error {
				vols, err := o.ProjectVolumes(c.Context, p, c.Args().Slice())
				if err != nil {
					return err
				}
				return writeVolumes(a.stdout, vols, format, c.Bool("quiet"))
			}),
	}
}

// imageRow is compose's images --format json object.
type imageRow struct {
	ID            string    `json:"ID"`
	ContainerName string    `json:"ContainerName"`
	Repository    string    `json:"Repository"`
	Tag           string    `json:"Tag"`
	Platform      string    `json:"Platform"`
	Size          int64     `json:"Size"`
	Created       time.Time `json:"Created"`
	LastTagTime   time.Time `json:"LastTagTime"`
}

func writeImages(w io.Writer, rows []orchestrator.ImageRow, format string, quiet bool) error {
	var out []imageRow
	for _, r := range rows {
		repo, tag := r.Ref, "latest"
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo, tag = repo[:i], repo[i+1:]
		}
		out = append(out, imageRow{ID: r.Image.ID, ContainerName: r.Container, Repository: repo, Tag: tag,
			Platform: r.Image.Platform, Size: r.Image.Size, Created: r.Image.Created, LastTagTime: r.Image.LastTagTime})
	}
	switch {
	case isTemplate(format):
		return writeTemplate(w, format, out)
	case quiet:
		seen := map[string]bool{}
		for _, r := range out {
			if id := strings.TrimPrefix(r.ID, "sha256:"); !seen[id] {
				seen[id] = true
				fmt.Fprintln(w, id)
			}
		}
		return nil
	case format == "json":
		if out == nil {
			out = []imageRow{}
		}
		return json.NewEncoder(w).Encode(out)
	}
	tw := tabwriter.NewWriter(w, 20, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER\tREPOSITORY\tTAG\tPLATFORM\tIMAGE ID\tSIZE\tCREATED")
	for _, r := range out {
		id := strings.TrimPrefix(r.ID, "sha256:")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ContainerName, r.Repository, r.Tag, r.Platform, id[:min(12, len(id))],
			units.HumanSizeWithPrecision(float64(r.Size), 3), units.HumanDuration(time.Since(r.Created))+" ago")
	}
	return tw.Flush()
}

// volumeRow is compose's volumes --format json object.
type volumeRow struct {
	Availability, Driver, Group, Labels, Links, Mountpoint, Name, Scope, Size, Status string
}

func writeVolumes(w io.Writer, vols []orchestrator.Volume, format string, quiet bool) error {
	var rows []volumeRow
	for _, v := range vols {
		var labels []string
		for k, val := range v.Labels {
			labels = append(labels, k+"="+val)
		}
		sort.Strings(labels)
		rows = append(rows, volumeRow{Availability: "N/A", Driver: v.Driver, Group: "N/A", Labels: strings.Join(labels, ","), Links: "N/A",
			Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, Size: "N/A", Status: "N/A"})
	}
	switch {
	case quiet:
		for _, v := range vols {
			fmt.Fprintln(w, v.Name)
		}
		return nil
	case isTemplate(format):
		return writeTemplate(w, format, rows)
	case format == "json":
		return writeJSONLines(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 4, ' ', 0)
	fmt.Fprintln(tw, "DRIVER\tVOLUME NAME")
	for _, v := range vols {
		fmt.Fprintf(tw, "%s\t%s\n", v.Driver, v.Name)
	}
	return tw.Flush()
}

// streamCommands are compose's events and wait.
func streamCommands(a *app) []*cli.Command {
	return []*cli.Command{
		{
			Name:      "events",
			Usage:     "stream the project's container events",
			ArgsUsage: "[SERVICE...]",
			UsageText: "devenv events --json\n   devenv events postgres",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "json", Usage: "one JSON object per event, as compose prints them"},
				&cli.StringFlag{Name: "since", Usage: "events since a timestamp or a duration before now"},
				&cli.StringFlag{Name: "until", Usage: "stream until a timestamp or a duration"},
			},
			Action: func(c *cli.Context) error {
				p, o, err := a.readOnlyProject(c.Context)
				if err != nil {
					return err
				}
				w := a.rawStdout
				err = o.Events(c.Context, p, orchestrator.EventsOptions{Services: c.Args().Slice(), Since: c.String("since"), Until: c.String("until")},
					func(ev orchestrator.ProjectEvent) error { return writeEvent(w, ev, c.Bool("json")) })
				if c.Context.Err() != nil {
					return nil
				}
				return err
			},
		},
		{
			Name:      "wait",
			Usage:     "block until the services' containers and host services stop; exits with the last one's code",
			ArgsUsage: "SERVICE...",
			UsageText: "devenv wait migrate\n   devenv wait --down-project tests",
			Flags:     []cli.Flag{&cli.BoolFlag{Name: "down-project", Usage: "take the project down when the first container stops"}},
			Action: func(c *cli.Context) error {
				if c.NArg() == 0 {
					return usagef("wait: name at least one service")
				}
				last := 0
				err := a.withOrch(c.Context, loading{}, func(o *orchestrator.Orchestrator, p *project) error {
					return o.Wait(c.Context, p, c.Args().Slice(), c.Bool("down-project"), func(r orchestrator.WaitResult) {
						if r.Host != "" {
							fmt.Fprintf(a.stdout, "host service %q exited with status code %d\n", r.Host, r.ExitCode)
						} else {
							fmt.Fprintf(a.stdout, "container %q exited with status code %d\n", r.ID, r.ExitCode)
						}
						last = r.ExitCode
					})
				})
				if err == nil && last > 0 {
					return &exitError{code: last}
				}
				return err
			},
		},
	}
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

// statsCommand is compose's stats: a sample every second until Ctrl-C, or
// one with --no-stream.
func statsCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "resource use of services' running containers",
		ArgsUsage: "[SERVICE...]",
		UsageText: "devenv stats --no-stream\n   devenv stats --format json postgres",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stream", Usage: "one sample, then exit"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json, or a Go template"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "accepted: stopped containers use nothing"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "full container IDs"},
		},
		Action: func(c *cli.Context) error {
			format, err := composeFormat(c)
			if err != nil {
				return err
			}
			p, o, err := a.readOnlyProject(c.Context)
			if err != nil {
				return err
			}
			for {
				rows, err := o.Stats(c.Context, p, c.Args().Slice())
				if err := c.Context.Err(); err != nil {
					return err // interrupted: exit 130
				}
				if err != nil {
					return err
				}
				if !c.Bool("no-stream") && format == "table" && a.stdoutIsTerminal() {
					fmt.Fprint(a.stdout, "\x1b[2J\x1b[H") // a fresh screen, as docker stats does
				}
				if err := writeStats(a.stdout, rows, format, c.Bool("no-trunc")); err != nil {
					return err
				}
				if f, ok := a.stdout.(interface{ Flush() error }); ok {
					_ = f.Flush()
				}
				if c.Bool("no-stream") {
					return nil
				}
				if len(rows) == 0 {
					// Nothing running: a sample a second, not a busy loop.
					select {
					case <-c.Context.Done():
						return c.Context.Err()
					case <-time.After(time.Second):
					}
				}
			}
		},
	}
}

// statsRow is docker stats --format json's object.
type statsRow struct {
	BlockIO, CPUPerc, Container, ID, MemPerc, MemUsage, Name, NetIO, PIDs string
}

func writeStats(w io.Writer, rows []orchestrator.StatsRow, format string, noTrunc bool) error {
	var out []statsRow
	for _, r := range rows {
		id := r.ID
		if !noTrunc {
			id = id[:min(12, len(id))]
		}
		s := r.Stats
		memPerc := 0.0
		if s.MemLimit > 0 {
			memPerc = float64(s.MemUsage) / float64(s.MemLimit) * 100
		}
		out = append(out, statsRow{
			BlockIO: units.HumanSizeWithPrecision(float64(s.BlockRead), 3) + " / " + units.HumanSizeWithPrecision(float64(s.BlockWrite), 3),
			CPUPerc: fmt.Sprintf("%.2f%%", s.CPUPercent), Container: r.ID, ID: id, MemPerc: fmt.Sprintf("%.2f%%", memPerc),
			MemUsage: units.BytesSize(float64(s.MemUsage)) + " / " + units.BytesSize(float64(s.MemLimit)), Name: r.Name,
			NetIO: units.HumanSizeWithPrecision(float64(s.NetRx), 3) + " / " + units.HumanSizeWithPrecision(float64(s.NetTx), 3),
			PIDs:  strconv.FormatUint(s.PIDs, 10),
		})
	}
	if isTemplate(format) {
		return writeTemplate(w, format, out)
	}
	if format == "json" {
		return writeJSONLines(w, out)
	}
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0) // docker stats' columns
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
	for _, r := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs)
	}
	return tw.Flush()
}

// inspectCommand is a read-only listing with compose's --format (table,
// json or a template) and -q.
func inspectCommand(a *app, name, usage, text, quietUsage string, show func(*cli.Context, *compose.Project, *orchestrator.Orchestrator, string) error) *cli.Command {
	return &cli.Command{
		Name: name, Usage: usage, ArgsUsage: "[SERVICE...]", UsageText: text,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json, or a Go template"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: quietUsage},
		},
		Action: func(c *cli.Context) error {
			format, err := composeFormat(c)
			if err != nil {
				return err
			}
			p, o, err := a.readOnlyProject(c.Context)
			if err != nil {
				return err
			}
			return show(c, p, o, format)
		},
	}
}
