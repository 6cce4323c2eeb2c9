// Package scaffold proposes the x-devenv block for an existing project
// (devenv init): host services from the project's own sources, env-file
// templates from its *.env.example files, and inserts the block into the
// compose file without changing any other byte of it.
package scaffold

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// host is a proposed host service.
type host struct {
	name, role, dir, command string
	port                     int
	env                      map[string]string
	dependsOn                string // YAML flow text
}

// Propose returns the x-devenv block devenv would add to the project ("" when
// there is nothing to propose, or the project's block has it all): its
// stack, a Phoenix host service from mix.exs (the port from config/dev.exs
// when it reads PORT with a default, else the rule's first port), a Vite
// one from a package.json with vite (here or in a frontend-like
// directory), and env-file templates from *.env.example values that point
// at a published or host port.
func Propose(p *compose.Project) (string, error) { return propose(p, true) }

// ProposeAll is Propose as if the project had no x-devenv block: the whole
// block init --write --force puts in place of the existing one.
func ProposeAll(p *compose.Project) (string, error) { return propose(p, false) }

func propose(p *compose.Project, missingOnly bool) (string, error) {
	dir := p.Dir()
	published := publishedPorts(p)
	var hosts []host
	mix := readFile(filepath.Join(dir, "mix.exs"))
	phoenix := strings.Contains(mix, ":phoenix")
	db := databaseService(p)
	taken := func(port int) bool { _, ok := published[port]; return ok }
	if phoenix {
		h := phoenixHost(p, db)
		h.port = freePort(h.port, taken)
		hosts = append(hosts, h)
	}
	viteDir, pkg := findVite(dir)
	if viteDir != "" {
		h := host{name: freeName(p, "frontend", "vite"), role: "vite", dir: viteDir, port: rulePort("vite"),
			command: "npm run dev -- --port {frontend} --strictPort"}
		if m := vitePort.FindStringSubmatch(pkg.Scripts["dev"]); m != nil {
			h.port, _ = strconv.Atoi(m[1])
		} else if m := viteConfigPort.FindStringSubmatch(viteConfig(filepath.Join(dir, viteDir))); m != nil {
			h.port, _ = strconv.Atoi(m[1])
		}
		if phoenix {
			h.dependsOn = "[" + hosts[0].name + "]"
		}
		h.command = strings.ReplaceAll(h.command, "{frontend}", "{"+h.name+"}")
		h.port = freePort(h.port, taken)
		hosts = append(hosts, h)
	}
	ports := map[int]string{}
	for port, svc := range published {
		ports[port] = svc
	}
	for _, h := range hosts {
		ports[h.port] = "{" + h.name + "}"
	}
	envFiles, err := envTemplates(dir, viteDir, ports)
	if err != nil {
		return "", err
	}
	st := stack(mix, p, pkg)
	if !missingOnly {
		return render(st, hosts, envFiles), nil
	}
	// Where the project has a block already, only what it lacks.
	if p.X.Stack != "" {
		st = ""
	}
	hosts = slices.DeleteFunc(hosts, func(h host) bool {
		for name, have := range p.X.Host {
			if name == h.name || (have.Role == h.role && h.role != "") {
				return true
			}
		}
		return false
	})
	for path := range envFiles {
		if _, ok := p.X.EnvFiles[path]; ok {
			delete(envFiles, path)
		}
	}
	return render(st, hosts, envFiles), nil
}

// phoenixHost is the Phoenix host service of a project with mix.exs: its
// port from config/dev.exs when it reads PORT with a default, its database
// URL and dependency from the project's PostgreSQL service db ("" for
// none).
func phoenixHost(p *compose.Project, db string) host {
	h := host{name: freeName(p, "backend", "phoenix"), role: "phoenix", command: "mix phx.server", port: rulePort("phoenix")}
	if m := phoenixPort.FindStringSubmatch(readFile(filepath.Join(p.Dir(), "config", "dev.exs"))); m != nil {
		h.port, _ = strconv.Atoi(m[1])
	}
	if db == "" {
		return h
	}
	env := p.Model.Services[db].Environment
	user, pass, name := value(env, "POSTGRES_USER", "postgres"), value(env, "POSTGRES_PASSWORD", ""), value(env, "POSTGRES_DB", "")
	if name == "" {
		name = user
	}
	u := url.URL{Scheme: "ecto", User: url.User(user), Host: "localhost:{" + db + "}", Path: "/" + name}
	if pass != "" {
		u.User = url.UserPassword(user, pass)
	}
	// The braces are devenv's placeholder, not part of the URL.
	h.env = map[string]string{"DATABASE_URL": dollars(strings.Replace(u.String(), "%7B"+db+"%7D", "{"+db+"}", 1))}
	cond := "service_started"
	if p.Model.Services[db].HealthCheck != nil {
		cond = "service_healthy"
	}
	h.dependsOn = fmt.Sprintf("{%s: {condition: %s}}", db, cond)
	return h
}

var (
	phoenixPort    = regexp.MustCompile(`System\.get_env\("PORT"\)\s*\|\|\s*"?(\d+)"?`)
	vitePort       = regexp.MustCompile(`--port[ =](\d+)`)
	viteConfigPort = regexp.MustCompile(`port:\s*(\d+)`)
	localURL       = regexp.MustCompile(`(localhost|127\.0\.0\.1):(\d+)`)
	envName        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// frontendDirs are where a frontend of a Phoenix project usually lives.
var frontendDirs = []string{".", "frontend", "web", "client", "ui", "app", "assets"}

type packageJSON struct {
	Scripts         map[string]string `json:"scripts"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

func (p packageJSON) has(dep string) bool {
	_, a := p.Dependencies[dep]
	_, b := p.DevDependencies[dep]
	return a || b
}

// findVite is the first directory with a package.json that uses vite.
func findVite(dir string) (string, packageJSON) {
	for _, d := range frontendDirs {
		var pkg packageJSON
		b, err := os.ReadFile(filepath.Join(dir, d, "package.json"))
		if err != nil || json.Unmarshal(b, &pkg) != nil {
			continue
		}
		if pkg.has("vite") || strings.Contains(pkg.Scripts["dev"], "vite") {
			return d, pkg
		}
	}
	return "", packageJSON{}
}

func viteConfig(dir string) string {
	for _, n := range []string{"vite.config.ts", "vite.config.js", "vite.config.mjs"} {
		if s := readFile(filepath.Join(dir, n)); s != "" {
			return s
		}
	}
	return ""
}

// stack names the project's stack as the reference document's port map
// does: "Ash + ElectricSQL + SvelteKit", or "Phoenix (no Ash)".
func stack(mix string, p *compose.Project, pkg packageJSON) string {
	var parts []string
	if strings.Contains(mix, ":ash") {
		parts = append(parts, "Ash")
	}
	electric := strings.Contains(mix, ":electric")
	for _, name := range p.Model.ServiceNames() {
		if compose.Role(p.ServiceX[name].Role, p.Model.Services[name].Image, name) == "electric" {
			electric = true
		}
	}
	if electric {
		parts = append(parts, "ElectricSQL")
	}
	switch {
	case pkg.has("@sveltejs/kit"):
		parts = append(parts, "SvelteKit")
	case pkg.has("react"):
		parts = append(parts, "React")
	case pkg.has("vue"):
		parts = append(parts, "Vue")
	}
	if len(parts) == 0 && strings.Contains(mix, ":phoenix") {
		return "Phoenix (no Ash)"
	}
	return strings.Join(parts, " + ")
}

// publishedPorts maps each fixed published host port to the placeholder
// that names it: {service}, or {service:TARGET} for a service that
// publishes more than one port.
func publishedPorts(p *compose.Project) map[int]string {
	out := map[int]string{}
	reqs, err := p.PortRequests()
	if err != nil {
		return out
	}
	count := map[string]int{}
	for _, r := range reqs {
		if !r.Host && r.Port > 0 && r.PortEnd == 0 {
			count[r.Service]++
		}
	}
	for _, r := range reqs {
		if r.Host || r.Port == 0 || r.PortEnd != 0 {
			continue
		}
		if count[r.Service] > 1 {
			out[r.Port] = fmt.Sprintf("{%s:%d}", r.Service, r.Target)
		} else {
			out[r.Port] = "{" + r.Service + "}"
		}
	}
	return out
}

// freeName is name, else alt, when the project has no service of that
// name (a host service cannot share a compose service's name).
func freeName(p *compose.Project, name, alt string) string {
	if _, taken := p.Model.Services[name]; taken {
		return alt
	}
	return name
}

// freePort is port, else the next one no compose service publishes.
func freePort(port int, taken func(int) bool) int {
	for taken(port) {
		port++
	}
	return port
}

// dollars escapes $ for compose's interpolation.
func dollars(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// databaseService is the project's only PostgreSQL service, if any.
func databaseService(p *compose.Project) string {
	var found []string
	for _, name := range p.Model.ServiceNames() {
		if compose.Role(p.ServiceX[name].Role, p.Model.Services[name].Image, name) == "postgres" {
			found = append(found, name)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// envTemplates reads the *.env.example files of the project and of the
// frontend's directory; a file whose values point at a known port becomes
// a template (the port replaced by {service}), its other values kept.
func envTemplates(dir, viteDir string, ports map[int]string) (map[string][][2]string, error) {
	out := map[string][][2]string{}
	dirs := []string{"."}
	if viteDir != "" && viteDir != "." {
		dirs = append(dirs, viteDir)
	}
	for _, d := range dirs {
		matches, _ := filepath.Glob(filepath.Join(dir, d, "*.env.example"))
		dot, _ := filepath.Glob(filepath.Join(dir, d, ".env.example"))
		for _, f := range append(dot, matches...) {
			vars, templated, err := readExample(f, ports)
			if err != nil {
				return nil, err
			}
			if templated {
				target := strings.TrimSuffix(filepath.ToSlash(filepath.Join(d, filepath.Base(f))), ".example")
				out[target] = vars
			}
		}
	}
	return out, nil
}

func readExample(path string, ports map[int]string) ([][2]string, bool, error) {
	// A value with braces of its own cannot be a template: devenv would
	// read them as a port placeholder. Such keys are left out.
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	var vars [][2]string
	templated := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)
		if !envName.MatchString(k) || strings.ContainsAny(v, "{}") {
			continue
		}
		v = localURL.ReplaceAllStringFunc(dollars(v), func(m string) string {
			sub := localURL.FindStringSubmatch(m)
			port, _ := strconv.Atoi(sub[2])
			if ph, ok := ports[port]; ok {
				templated = true
				return sub[1] + ":" + ph
			}
			return m
		})
		vars = append(vars, [2]string{strings.TrimSpace(k), v})
	}
	return vars, templated, nil
}

func value(env map[string]*string, key, def string) string {
	if v, ok := env[key]; ok && v != nil {
		return *v
	}
	return def
}

func rulePort(role string) int { return registry.DefaultRules()[role].Start }

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
