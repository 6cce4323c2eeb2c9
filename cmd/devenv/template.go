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

// writeTemplate prints rows with a Go template, as docker's --format does:
// "table TEMPLATE" adds a header of the fields' names and aligns columns.
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
		tw = tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
		out = tw
		header := templateField.ReplaceAllStringFunc(text, func(m string) string {
			return strings.ToUpper(templateField.FindStringSubmatch(m)[1])
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
