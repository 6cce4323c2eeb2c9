package main

import (
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/registry"
)

// markdownColumns are the reference document's port map columns, by role,
// in its order; Redis and other roles follow when a project reserves them.
var markdownColumns = []struct{ title, role string }{
	{"Backend", "phoenix"}, {"Frontend", "vite"}, {"DB", "postgres"}, {"Electric", "electric"}, {"Redis", "redis"},
}

// markdownTitles are the columns of the port map for reg: the roles some
// project reserves, the reference document's in its order first.
func markdownTitles(reg *registry.Registry) (titles, roles []string) {
	present := map[string]bool{}
	for _, p := range reg.Projects {
		for _, r := range p.Reservations {
			present[r.Role] = true
		}
	}
	for _, col := range markdownColumns {
		if present[col.role] {
			titles, roles = append(titles, col.title), append(roles, col.role)
		}
		delete(present, col.role)
	}
	for _, role := range slices.Sorted(maps.Keys(present)) {
		if role == "" {
			continue
		}
		titles, roles = append(titles, strings.ToUpper(role[:1])+role[1:]), append(roles, role)
	}
	return titles, roles
}

// writeMarkdown prints the reference document's "Cross-Project Port Map"
// table for every project in the registry.
func writeMarkdown(w io.Writer, reg *registry.Registry) error {
	// The reference document's map of projects: devenv's own proxy is not
	// one (ports and proxy status list its ports).
	projects := slices.DeleteFunc(slices.Clone(reg.Projects), func(p *registry.Project) bool { return registry.Own(p.Name) })
	reg = &registry.Registry{Version: reg.Version, Rules: reg.Rules, Projects: projects}
	titles, roles := markdownTitles(reg)
	var b strings.Builder
	head := append(append([]string{"Project"}, titles...), "Stack")
	b.WriteString("| " + strings.Join(head, " | ") + " |\n")
	var rule []string
	for _, h := range head {
		rule = append(rule, strings.Repeat("-", max(len(h), 3)+2))
	}
	b.WriteString("|" + strings.Join(rule, "|") + "|\n")
	sort.Slice(projects, func(i, j int) bool { return projects[i].Name < projects[j].Name })
	for _, p := range projects {
		cells := []string{"**" + p.Name + "**"}
		if p.Instance != "" {
			cells[0] += " (instance " + p.Instance + ")"
		}
		for _, role := range roles {
			var ports []string
			for _, r := range p.Reservations {
				if r.Role == role {
					ports = append(ports, strconv.Itoa(r.Port))
				}
			}
			if len(ports) == 0 {
				cells = append(cells, "N/A")
			} else {
				cells = append(cells, strings.Join(ports, ", "))
			}
		}
		stack := p.Stack
		if stack == "" {
			stack = "N/A"
		}
		cells = append(cells, stack)
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
