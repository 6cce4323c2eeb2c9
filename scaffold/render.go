package scaffold

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// render writes the block as YAML, in a fixed order.
func render(stack string, hosts []host, envFiles map[string][][2]string) string {
	if stack == "" && len(hosts) == 0 && len(envFiles) == 0 {
		return "" // never an empty x-devenv:
	}
	var b strings.Builder
	b.WriteString("x-devenv:\n")
	if stack != "" {
		fmt.Fprintf(&b, "  stack: %s\n", quote(stack))
	}
	if len(hosts) > 0 {
		b.WriteString("  host:\n")
		for _, h := range hosts {
			fmt.Fprintf(&b, "    %s:\n      role: %s\n      port: %d\n", h.name, h.role, h.port)
			if h.dir != "" && h.dir != "." {
				fmt.Fprintf(&b, "      dir: %s\n", quote(h.dir))
			}
			fmt.Fprintf(&b, "      command: %s\n", quote(h.command))
			if len(h.env) > 0 {
				b.WriteString("      env:\n")
				keys := make([]string, 0, len(h.env))
				for k := range h.env {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(&b, "        %s: %s\n", quote(k), quote(h.env[k]))
				}
			}
			if h.dependsOn != "" {
				fmt.Fprintf(&b, "      depends_on: %s\n", h.dependsOn)
			}
			fmt.Fprintf(&b, "      health: %s\n", quote("http://localhost:{"+h.name+"}"))
		}
	}
	if len(envFiles) > 0 {
		b.WriteString("  env_files:\n")
		names := make([]string, 0, len(envFiles))
		for n := range envFiles {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(&b, "    %s:\n", quote(n))
			for _, kv := range envFiles[n] {
				fmt.Fprintf(&b, "      %s: %s\n", quote(kv[0]), quote(kv[1]))
			}
		}
	}
	return b.String()
}

// quote writes a YAML double-quoted scalar (JSON's escaping is valid YAML).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
