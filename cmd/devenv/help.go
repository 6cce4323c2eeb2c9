package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/urfave/cli/v2"
)

// helpWidth is the width help pages are wrapped to.
const helpWidth = 80

// commandGroups order the commands of devenv --help; a visible command
// missing here is listed under "Other".
var commandGroups = []struct {
	title string
	names []string
}{
	{"Lifecycle", []string{"up", "down", "start", "stop", "restart", "create", "kill", "pause", "unpause", "rm", "wait"}},
	{"Inspect", []string{"ps", "logs", "top", "stats", "images", "volumes", "events", "config", "health", "ls", "ui"}},
	{"Ports, names and env", []string{"ports", "port", "open", "proxy", "env"}},
	{"Everyday", []string{"exec", "run", "connect", "cp", "build", "pull"}},
	{"Setup", []string{"init", "instance", "doctor", "completion", "version"}},
}

// printHelp renders devenv's help pages in place of urfave's templates:
// commands grouped, within 80 columns, flags with their value's name and
// only defaults that say something, examples under their own heading, a
// footer naming where more help is.
func printHelp(w io.Writer, _ string, data any) {
	var b strings.Builder
	switch d := data.(type) {
	case *cli.App:
		appHelp(&b, d)
	case *cli.Command:
		commandHelp(&b, d, nil)
	case *cli.Context:
		if d.Command != nil && d.Command.Name != "" {
			commandHelp(&b, d.Command, d)
		} else {
			appHelp(&b, d.App)
		}
	default:
		return
	}
	fmt.Fprint(w, b.String())
}

func appHelp(b *strings.Builder, app *cli.App) {
	fmt.Fprintf(b, "Usage:  %s\n\n", app.UsageText)
	wrap(b, "", sentence(app.Usage))
	b.WriteString("\n")
	listed := map[string]bool{}
	byName := map[string]*cli.Command{}
	for _, c := range app.Commands {
		byName[c.Name] = c
	}
	width := 0
	for _, c := range app.Commands {
		if !c.Hidden {
			width = max(width, len(c.Name))
		}
	}
	for _, g := range commandGroups {
		fmt.Fprintf(b, "%s:\n", g.title)
		for _, n := range g.names {
			if c := byName[n]; c != nil && !c.Hidden {
				item(b, "  "+pad(n, width)+"  ", c.Usage)
				listed[n] = true
			}
		}
		b.WriteString("\n")
	}
	var other []*cli.Command
	for _, c := range app.Commands {
		if !c.Hidden && !listed[c.Name] {
			other = append(other, c)
		}
	}
	if len(other) > 0 {
		b.WriteString("Other:\n")
		for _, c := range other {
			item(b, "  "+pad(c.Name, width)+"  ", c.Usage)
		}
		b.WriteString("\n")
	}
	b.WriteString("Global flags (before or after the command):\n")
	flagList(b, app.VisibleFlags())
	b.WriteString("\n")
	wrap(b, "", app.Description)
	b.WriteString("\nRun 'devenv COMMAND --help' (or 'devenv help COMMAND') for more on a command.\n")
}

func commandHelp(b *strings.Builder, c *cli.Command, _ *cli.Context) {
	// HelpName is "devenv ports check" for a subcommand.
	full := strings.TrimPrefix(c.HelpName, "devenv ")
	if full == "" || full == c.HelpName {
		full = c.FullName()
	}
	var subs []*cli.Command
	for _, s := range c.Subcommands {
		if !s.Hidden && s.Name != "help" { // urfave's own
			subs = append(subs, s)
		}
	}
	usage := "devenv " + full
	if len(c.VisibleFlags()) > 0 {
		usage += " [flags]"
	}
	if len(subs) > 0 {
		usage += " [COMMAND]"
	}
	if c.ArgsUsage != "" {
		usage += " " + c.ArgsUsage
	}
	fmt.Fprintf(b, "Usage:  %s\n\n", usage)
	wrap(b, "", sentence(c.Usage))
	if c.Description != "" {
		b.WriteString("\n")
		wrap(b, "", c.Description)
	}
	if len(subs) > 0 {
		b.WriteString("\nCommands:\n")
		width := 0
		for _, s := range subs {
			width = max(width, len(s.Name))
		}
		for _, s := range subs {
			item(b, "  "+pad(s.Name, width)+"  ", s.Usage)
		}
	}
	if flags := c.VisibleFlags(); len(flags) > 0 {
		b.WriteString("\nFlags:\n")
		flagList(b, flags)
	}
	if ex := examples(c.UsageText); len(ex) > 0 {
		b.WriteString("\nExamples:\n")
		// Comments in one column, as a reader scans them.
		width := 0
		for _, line := range ex {
			if cmd, _, ok := strings.Cut(line, " #"); ok {
				width = max(width, len(strings.TrimRight(cmd, " ")))
			}
		}
		for _, line := range ex {
			if cmd, comment, ok := strings.Cut(line, " #"); ok {
				line = pad(strings.TrimRight(cmd, " "), width) + "   #" + comment
			}
			fmt.Fprintf(b, "  %s\n", line)
		}
	}
	if len(subs) > 0 {
		fmt.Fprintf(b, "\nRun 'devenv %s COMMAND --help' for more on a command.\n", full)
	} else {
		b.WriteString("\nGlobal flags (-f, -p, --profile, --env-file, --project-directory, --registry,\n--progress) work here too; see 'devenv --help'.\n")
	}
}

// sentence is a usage line as a sentence: capitalised, a full stop.
func sentence(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// examples are a command's UsageText lines, trimmed: urfave indents all but
// the first by three spaces.
func examples(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// flagList prints flags as "  -f, --file FILE  usage (default: x)", the
// usage wrapped under itself.
func flagList(b *strings.Builder, flags []cli.Flag) {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	for _, f := range flags {
		names := f.Names()
		var short, long []string
		for _, n := range names {
			if len(n) == 1 {
				short = append(short, "-"+n)
			} else {
				long = append(long, "--"+n)
			}
		}
		left := strings.Join(append(short, long...), ", ")
		if len(short) == 0 {
			left = "    " + left
		}
		if v := valueName(f); v != "" {
			left += " " + v
		}
		usage := ""
		if d, ok := f.(cli.DocGenerationFlag); ok {
			usage = d.GetUsage()
			if def := defaultText(f); def != "" && !strings.Contains(usage, "default") {
				usage += " (default: " + def + ")"
			}
		}
		rows = append(rows, row{left, usage})
		width = max(width, len(left))
	}
	width = min(width, 30)
	for _, r := range rows {
		left := "  " + r.left
		if len(r.left) > width {
			fmt.Fprintln(b, left)
			left = ""
		}
		item(b, "  "+pad(strings.TrimPrefix(left, "  "), width)+"  ", r.usage)
	}
}

// valueName is what a flag's value is called in help: its name in capitals
// (--wait-timeout TIMEOUT); "" for a switch.
func valueName(f cli.Flag) string {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok || !d.TakesValue() {
		return ""
	}
	name := f.Names()[0]
	if v, ok := valueNames[name]; ok {
		return v
	}
	if i := strings.LastIndex(name, "-"); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToUpper(name)
}

// valueNames name the values of flags whose own name does not say it.
var valueNames = map[string]string{
	"registry": "FILE", "progress": "MODE", "ansi": "WHEN", "parallel": "N", "timeout": "SECONDS",
	"wait-timeout": "DURATION", "project-directory": "DIR", "project-name": "NAME", "rmi": "TYPE",
	"tail": "N", "index": "N", "output": "FILE", "hash": "SERVICES", "env-from-file": "FILE", "listen": "ADDR",
}

// defaultText is a flag's default worth saying: a non-empty string, a
// positive number, a set duration; never a switch's false.
func defaultText(f cli.Flag) string {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok || !d.TakesValue() {
		return ""
	}
	v := reflect.ValueOf(f).Elem().FieldByName("Value")
	if !v.IsValid() {
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int64:
		if v.Type().String() == "time.Duration" {
			if v.Int() > 0 {
				return fmt.Sprint(v.Interface())
			}
			return ""
		}
		if v.Int() > 0 {
			return fmt.Sprint(v.Int())
		}
	}
	return ""
}

// item prints left and then text wrapped to the help's width, continued
// lines indented under text's start.
func item(b *strings.Builder, left, text string) {
	indent := strings.Repeat(" ", len(left))
	lines := wrapText(text, helpWidth-len(left))
	if len(lines) == 0 {
		fmt.Fprintln(b, strings.TrimRight(left, " "))
		return
	}
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintln(b, left+l)
		} else {
			fmt.Fprintln(b, indent+l)
		}
	}
}

// wrap prints text's paragraphs (its lines) wrapped to the help's width.
func wrap(b *strings.Builder, indent, text string) {
	for _, para := range strings.Split(text, "\n") {
		for _, l := range wrapText(para, helpWidth-len(indent)) {
			fmt.Fprintln(b, indent+l)
		}
	}
}

func wrapText(text string, width int) []string {
	width = max(width, 20)
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func pad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return s + strings.Repeat(" ", width-len(s))
}
