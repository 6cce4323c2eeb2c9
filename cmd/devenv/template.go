package main

import (
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"text/template"
)

// isTemplate says whether --format is a Go template (docker's formatting)
// rather than a named format.
func isTemplate(format string) bool { return strings.Contains(format, "{{") }

var templateFuncs = template.FuncMap{
	"json": func(v any) string { b, _ := json.Marshal(v); return string(b) },
	"join": strings.Join, "lower": strings.ToLower, "upper": strings.ToUpper,
	"split": strings.Split, "title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
}

var templateField = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// headered is a row type with docker's column titles for its fields.
type headered interface{ headers() map[string]string }

// Docker's column titles, by the row's kind; a field without one is
// titled by its name in capitals.
var (
	containerHeaders = map[string]string{"ID": "CONTAINER ID", "Name": "NAME", "Names": "NAMES", "Image": "IMAGE",
		"Command": "COMMAND", "Service": "SERVICE", "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS",
		"State": "STATE", "Status": "STATUS", "Project": "PROJECT", "Labels": "LABELS", "Size": "SIZE"}
	volumeHeaders = map[string]string{"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
		"Labels": "LABELS", "Size": "SIZE", "Links": "LINKS", "Availability": "AVAILABILITY", "Group": "GROUP", "Status": "STATUS"}
	statsHeaders = map[string]string{"ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %",
		"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}
	imageHeaders = map[string]string{"ID": "IMAGE ID", "ContainerName": "CONTAINER", "Repository": "REPOSITORY", "Tag": "TAG",
		"Platform": "PLATFORM", "Size": "SIZE", "Created": "CREATED"}
)

// writeTemplate prints rows with a Go template, as docker's --format does:
// "table TEMPLATE" adds a header of docker's column titles and aligns the
// columns as docker does.
func writeTemplate[T any](w io.Writer, format string, rows []T) error {
	table := strings.HasPrefix(format, "table ")
	text := strings.TrimPrefix(format, "table ")
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(text)
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return usagef("--format: %v", err)
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		var titles map[string]string
		var zero T
		if h, ok := any(zero).(headered); ok {
			titles = h.headers()
		}
		header := templateField.ReplaceAllStringFunc(text, func(m string) string {
			field := templateField.FindStringSubmatch(m)[1]
			if t, ok := titles[field]; ok {
				return t
			}
			return strings.ToUpper(field)
		})
		if _, err := io.WriteString(out, header+"\n"); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if err := tmpl.Execute(out, r); err != nil {
			return usagef("--format: %v", err)
		}
		if _, err := io.WriteString(out, "\n"); err != nil {
			return err
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

func (psRow) headers() map[string]string     { return containerHeaders }
func (volumeRow) headers() map[string]string { return volumeHeaders }
func (statsRow) headers() map[string]string  { return statsHeaders }
func (imageRow) headers() map[string]string  { return imageHeaders }
