package compose

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

var keyInMsg = regexp.MustCompile(`(services(\.[A-Za-z0-9_.\-\[\]]+)?|networks\.[A-Za-z0-9_.\-]+|volumes\.[A-Za-z0-9_.\-]+|x-devenv[A-Za-z0-9_.\-]*)`)

// wrapLoadErr turns a compose-go error into a ConfigError naming the file
// (when compose-go's message does not) and the key it mentions.
func wrapLoadErr(files []string, err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	if ye := yamlError(files, msg); ye != nil {
		return ye
	}
	file := ""
	for _, f := range files {
		if strings.Contains(msg, f) {
			file = f
			msg = strings.TrimSpace(strings.NewReplacer("validating "+f+":", "", f+":", "", f, "").Replace(msg))
			break
		}
	}
	if file == "" && len(files) > 0 {
		file = strings.Join(files, ", ")
	}
	key := ""
	if m := keyInMsg.FindString(msg); m != "" {
		key = strings.TrimRight(m, ".")
	} else if m := serviceInMsg.FindStringSubmatch(msg); m != nil {
		key = "services." + m[1]
	}
	if key == "" && portErr.MatchString(msg) {
		if f, k := locatePortError(files); k != "" {
			file, key = f, k
		}
	}
	if key != "" && strings.HasPrefix(msg, key) {
		msg = strings.TrimLeft(strings.TrimPrefix(msg, key), " :")
	}
	key, msg = sayDevenvsWay(key, msg)
	if pos := keyPosition(files, file, key); pos != "" {
		file = pos
	}
	return &ConfigError{File: file, Key: key, Msg: msg, Err: err}
}

// yamlError says a YAML syntax error devenv's way, FILE:LINE:COL: what
// is wrong, instead of the parser's "(while parsing a block mapping) at
// L2.C3-L4.C4". The file is the one that fails to parse alone (compose-go's
// message may not name it); the position is where the parser gave up, or
// where a [ or { list that never closes began. nil when msg is no YAML
// error.
func yamlError(files []string, msg string) error {
	if !strings.Contains(msg, "yaml") {
		return nil
	}
	file, alone := "", ""
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			var n yaml.Node
			if perr := yaml.Unmarshal(data, &n); perr != nil {
				file, alone = f, strings.TrimPrefix(perr.Error(), "yaml: ")
				break
			}
		}
		if strings.Contains(msg, f) {
			file = f
		}
	}
	if file == "" {
		file = strings.Join(files, ", ")
	}
	pos, reason := "", ""
	if m := yamlRange.FindStringSubmatch(msg); m != nil {
		line, col := m[2], m[3]
		if m[4] != "" && !strings.Contains(m[1], "flow") {
			line, col = m[4], m[5]
		}
		pos, reason = ":"+line+":"+col, m[6]
		if strings.Contains(m[1], "flow") {
			reason += " (the list opened here is not closed)"
		}
	} else if all := yamlLine.FindAllStringSubmatchIndex(msg, -1); all != nil {
		last := all[len(all)-1]
		pos, reason = ":"+msg[last[2]:last[3]], msg[last[1]:]
	} else if alone != "" {
		reason = alone
		if m := regexp.MustCompile(`^line (\d+): (.*)`).FindStringSubmatch(alone); m != nil {
			pos, reason = ":"+m[1], m[2]
		}
	} else {
		return nil
	}
	return &ConfigError{File: file + pos, Msg: yamlHint(strings.TrimSpace(reason)), Err: ErrConfig}
}

// yamlHint adds what usually causes the parser's complaint.
func yamlHint(reason string) string {
	switch {
	case strings.Contains(reason, "did not find expected key"):
		return reason + "; a line indented differently from the lines beside it, or a missing ':'"
	case strings.Contains(reason, "mapping values are not allowed"):
		return reason + "; a line indented deeper than the one above it, or a value with ': ' in it that needs quotes"
	case strings.Contains(reason, "found character that cannot start any token"):
		return reason + "; tabs cannot indent YAML, use spaces"
	case strings.Contains(reason, "already defined"):
		return reason + "; a key may appear once in a mapping"
	}
	return reason
}

// locatePortError finds the first short-syntax port entry that does not
// parse, to name its service and index.
func locatePortError(files []string) (string, string) {
	for _, f := range files {
		raw, err := readRaw(f)
		if err != nil {
			continue
		}
		services, _ := raw["services"].(map[string]any)
		for _, name := range sortedKeys(services) {
			svc, _ := services[name].(map[string]any)
			ports, _ := svc["ports"].([]any)
			for i, p := range ports {
				text := fmt.Sprint(p)
				if strings.Contains(text, "$") {
					continue
				}
				if _, ok := p.(map[string]any); ok {
					continue
				}
				if _, err := types.ParsePortConfig(text); err != nil {
					return f, fmt.Sprintf("services.%s.ports[%d]", name, i)
				}
			}
		}
	}
	return "", ""
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// checkUnsetPortVars refuses a published port that depends on a variable that
// is not set: compose would silently publish a random port instead.
func checkUnsetPortVars(files []string, env map[string]string) error {
	for _, f := range files {
		raw, err := readRaw(f)
		if err != nil || raw == nil {
			continue
		}
		services, _ := raw["services"].(map[string]any)
		names := make([]string, 0, len(services))
		for n := range services {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			svc, _ := services[name].(map[string]any)
			ports, _ := svc["ports"].([]any)
			for i, p := range ports {
				text := ""
				switch v := p.(type) {
				case string:
					text = v
				case map[string]any:
					if pub, ok := v["published"].(string); ok {
						text = pub
					}
				}
				for _, m := range varRef.FindAllStringSubmatch(text, -1) {
					name2, mod := m[1], m[2]
					if name2 == "" {
						name2 = m[3]
					}
					if strings.HasPrefix(mod, ":-") || strings.HasPrefix(mod, "-") || strings.HasPrefix(mod, ":?") || strings.HasPrefix(mod, "?") {
						continue
					}
					if v, ok := env[name2]; !ok || v == "" {
						return &ConfigError{File: f, Key: fmt.Sprintf("services.%s.ports[%d]", name, i),
							Msg: fmt.Sprintf("published port %q uses variable %s, which is not set (set it, or give a default with ${%s:-PORT})", text, name2, name2)}
					}
				}
			}
		}
	}
	return nil
}

var (
	yamlRange    = regexp.MustCompile(`(?:\(while ([^)]*)\) )?at L(\d+)\.C(\d+)(?:-L(\d+)\.C(\d+))?: (.*)`)
	yamlLine     = regexp.MustCompile(`line (\d+): `)
	serviceInMsg = regexp.MustCompile(`service "([^"]+)"`)
	portErr      = regexp.MustCompile(`(?i)invalid (hostPort|containerPort|proto|port)|port`)
)
