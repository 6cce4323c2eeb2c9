package compose

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// rewrite is one of compose-go's messages said devenv's way: the key it
// is about and what to do.
type rewrite struct {
	re *regexp.Regexp
	// say returns the key (relative to key when it starts with ".") and
	// the message, from the match.
	say func(m []string) (key, msg string)
}

var typeWords = map[string]string{
	"array": "a list (one \"- item\" per line, or [a, b])", "object": "a mapping (key: value lines)",
	"string": "a string", "number": "a number", "integer": "a whole number", "boolean": "true or false",
}

var rewrites = []rewrite{
	{regexp.MustCompile(`^must be a (\w+)$`), func(m []string) (string, string) {
		if w, ok := typeWords[m[1]]; ok {
			return "", "must be " + w
		}
		return "", m[0]
	}},
	{regexp.MustCompile(`^additional properties? '([^']+)' not allowed$`), func(m []string) (string, string) {
		return "." + m[1], "compose has no key " + strconv.Quote(m[1]) + " here: check its spelling and its indentation"
	}},
	{regexp.MustCompile(`^additional properties ('[^']+'(?:, '[^']+')*) not allowed$`), func(m []string) (string, string) {
		return "", "compose has no keys " + m[1] + " here: check their spelling and indentation"
	}},
	{regexp.MustCompile(`error while interpolating ([^:]+): required variable (\w+) is missing a value(?:: (.*))?$`), func(m []string) (string, string) {
		msg := "variable " + m[2] + " is not set: set it in the environment or in the project's .env"
		if m[3] != "" {
			msg += " (the file says: " + m[3] + ")"
		}
		return "=" + m[1], msg
	}},
	{regexp.MustCompile(`error while interpolating ([^:]+): failed to cast to expected type: strconv\.(\w+): parsing "([^"]*)": invalid syntax`), func(m []string) (string, string) {
		want := "a number"
		if m[2] == "ParseBool" {
			want = "true or false"
		}
		return "=" + m[1], strconv.Quote(m[3]) + " must be " + want
	}},
	{regexp.MustCompile(`^service "([^"]+)" depends on undefined service "?([^":]+)"?: invalid compose project$`), func(m []string) (string, string) {
		return "=services." + m[1] + ".depends_on", strconv.Quote(m[2]) + " is not a service of this project: check the name, or declare it under services:"
	}},
	{regexp.MustCompile(`^service "([^"]+)" refers to undefined network "?([^":]+)"?: invalid compose project$`), func(m []string) (string, string) {
		return "=services." + m[1] + ".networks", "network " + strconv.Quote(m[2]) + " is not declared: add it under the top-level networks: key"
	}},
	{regexp.MustCompile(`^service "([^"]+)" refers to undefined volume "?([^":]+)"?: invalid compose project$`), func(m []string) (string, string) {
		return "=services." + m[1] + ".volumes", "volume " + strconv.Quote(m[2]) + " is not declared: add it under the top-level volumes: key"
	}},
	{regexp.MustCompile(`(?s)decoding failed due to the following error\(s\):\s*'([^']+)' (.*)$`), func(m []string) (string, string) {
		key := decodePath.ReplaceAllString(m[1], ".$1")
		msg := strings.TrimSpace(m[2])
		if d := badDuration.FindStringSubmatch(msg); d != nil {
			msg = strconv.Quote(d[1]) + " is not a duration: use a number and a unit, such as 5s, 1m30s or 500ms"
		}
		return "=" + key, msg
	}},
}

var (
	decodePath  = regexp.MustCompile(`\[([^\]]+)\]`)
	badDuration = regexp.MustCompile(`time: (?:unknown unit "[^"]*" in|invalid|missing unit in) duration "([^"]*)"`)
)

// sayDevenvsWay rewrites msg about key as one of devenv's messages where
// it knows compose-go's; the key it returns may be more precise.
func sayDevenvsWay(key, msg string) (string, string) {
	for _, r := range rewrites {
		m := r.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		k, said := r.say(m)
		switch {
		case strings.HasPrefix(k, "="):
			key = k[1:]
		case k != "" && key != "":
			key += k
		}
		return displayKey(key), said
	}
	return displayKey(key), msg
}

// displayKey writes list indexes as [N]: services.db.ports.1 is
// services.db.ports[1].
func displayKey(key string) string {
	parts := strings.Split(key, ".")
	out := ""
	for i, p := range parts {
		_, err := strconv.Atoi(p)
		switch {
		case i > 0 && (err == nil || strings.HasPrefix(p, "[")):
			if !strings.HasPrefix(p, "[") {
				p = "[" + p + "]"
			}
			out += p
		case i > 0:
			out += "." + p
		default:
			out = p
		}
	}
	return out
}

// keyPosition is where the dotted key (services.db.ports[0]) is written:
// FILE:LINE:COL of the first file that has the whole key (the file the
// error named first), else of the deepest part of it one has; "" when none
// has any of it.
func keyPosition(files []string, named, key string) string {
	if key == "" {
		return ""
	}
	order := slices.Clone(files)
	if i := slices.Index(order, named); i > 0 {
		order = append([]string{named}, slices.Delete(order, i, i+1)...)
	}
	partial := ""
	for _, f := range order {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
			continue
		}
		n, whole := findKey(doc.Content[0], splitKey(key))
		switch {
		case n != nil && whole:
			return fmt.Sprintf("%s:%d:%d", f, n.Line, n.Column)
		case n != nil && partial == "":
			partial = fmt.Sprintf("%s:%d:%d", f, n.Line, n.Column)
		}
	}
	return partial
}

// splitKey cuts services.db.ports[0] (or services.db.ports.0) into
// services, db, ports, [0].
func splitKey(key string) []string {
	var parts []string
	for _, p := range strings.Split(key, ".") {
		name, idx, _ := strings.Cut(p, "[")
		if _, err := strconv.Atoi(name); err == nil {
			name, idx = "", name+"]"
		}
		if name != "" {
			parts = append(parts, name)
		}
		if idx != "" {
			parts = append(parts, "["+idx)
		}
	}
	return parts
}

// findKey walks a YAML mapping by key names and [i] indexes. It returns
// the node of the deepest key found, and whether that is the whole path,
// so a key compose-go names below what the file spells (an interpolated
// value) still points at its line.
func findKey(n *yaml.Node, path []string) (found *yaml.Node, whole bool) {
	for _, part := range path {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		switch {
		case strings.HasPrefix(part, "[") && n.Kind == yaml.SequenceNode:
			i, err := strconv.Atoi(strings.TrimSuffix(part[1:], "]"))
			if err != nil || i < 0 || i >= len(n.Content) {
				return found, false
			}
			n = n.Content[i]
			found = n
		case n.Kind == yaml.MappingNode:
			next := -1
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					next = i
					break
				}
			}
			if next < 0 {
				return found, false
			}
			found, n = n.Content[next], n.Content[next+1]
		default:
			return found, false
		}
	}
	return found, found != nil
}
