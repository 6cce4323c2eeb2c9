package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

// newImagesCmd is compose's images.
func newImagesCmd(a *app) *cli.Command {
	o := &listingOptions{}
	return &cli.Command{
		Name: "images", Usage: "the images of the project's containers", ArgsUsage: "[SERVICE...]",
		UsageText: "devenv images\n   devenv images --format json",
		Flags:     o.flags("only image IDs"),
		Action: func(c *cli.Context) error {
			o.Services = c.Args().Slice()
			return runImages(c.Context, a, o)
		},
	}
}

func runImages(ctx context.Context, a *app, o *listingOptions) error {
	return runListing(ctx, a, o, (*orchestrator.Orchestrator).Images, writeImages)
}

// runListing is a read-only listing: compose's --format checked first,
// the project loaded, the core's rows written as o asks.
func runListing[T any](ctx context.Context, a *app, o *listingOptions,
	list func(*orchestrator.Orchestrator, context.Context, *project, []string) ([]T, error),
	write func(io.Writer, []T, string, bool) error) error {
	format, err := composeFormatOf(o.Format)
	if err != nil {
		return err
	}
	p, orch, err := a.readOnlyProject(ctx)
	if err != nil {
		return err
	}
	rows, err := list(orch, ctx, p, o.Services)
	if err != nil {
		return err
	}
	return write(a.stdout, rows, format, o.Quiet)
}

// listingOptions are the flags of a read-only listing with compose's
// --format (table, json or a template) and -q.
type listingOptions struct {
	Services []string
	Format   string
	Quiet    bool
}

func (o *listingOptions) flags(quietUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json, or a Go template", Destination: &o.Format},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: quietUsage, Destination: &o.Quiet},
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
