package compose

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func loadText(t *testing.T, text string) (*Project, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(t, dir, Options{})
}

func TestNames(t *testing.T) {
	const base = `name: Shop_App
services:
  db: {image: postgres:15, ports: ["5434:5432"]}
  electric: {image: electricsql/electric, ports: ["3001:3000"]}
  api: {image: acme/api, ports: ["8080:80"], x-devenv: {health: "http://localhost:{api}/health"}}
  worker: {image: acme/worker, ports: ["9000:9000"]}
  admin: {image: acme/admin, ports: ["9100:80"], x-devenv: {http: true, hostname: backoffice.shop.localhost}}
`
	cases := []struct {
		name, x, want, err string
	}{
		{"HTTP services and host services; the vite one is main", `x-devenv:
  host:
    web: {port: 5173, role: vite}
    backend: {port: 4002}
`, "api.shop-app.localhost=api:80 backend.shop-app.localhost=backend:4002 backoffice.shop.localhost=admin:80 electric.shop-app.localhost=electric:3000 shop-app.localhost=web:5173 web.shop-app.localhost=web:5173", ""},
		{"no host services, no vite: no main", "", "api.shop-app.localhost=api:80 backoffice.shop.localhost=admin:80 electric.shop-app.localhost=electric:3000", ""},
		{"the first host service is main without a vite one", "x-devenv:\n  host:\n    zeta: {port: 4100}\n    backend: {port: 4002}\n", "api.shop-app.localhost=api:80 backend.shop-app.localhost=backend:4002 backoffice.shop.localhost=admin:80 electric.shop-app.localhost=electric:3000 shop-app.localhost=backend:4002 zeta.shop-app.localhost=zeta:4100", ""},
		{"x-devenv.main", "x-devenv:\n  main: api\n", "api.shop-app.localhost=api:80 backoffice.shop.localhost=admin:80 electric.shop-app.localhost=electric:3000 shop-app.localhost=api:80", ""},
		{"proxy off", "x-devenv:\n  proxy: false\n", "", ""},
		{"main without a name", "x-devenv:\n  main: db\n", "", `main service "db" has no name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := loadText(t, base+c.x)
			if err != nil {
				t.Fatal(err)
			}
			names, err := p.Names()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			var got []string
			for _, n := range names {
				got = append(got, n.Host+"="+n.Service+":"+strconv.Itoa(n.Target))
			}
			if strings.Join(got, " ") != c.want {
				t.Fatalf("names\n%s\nwant\n%s", strings.Join(got, " "), c.want)
			}
		})
	}
}

func TestNameTemplates(t *testing.T) {
	p, err := loadText(t, `name: shop
services:
  db: {image: postgres:15, ports: ["5434:5432"]}
x-devenv:
  host:
    web: {port: 5173, role: vite, command: ["npm", "run", "dev"]}
  env_files:
    .env: {APP: "{web.url}", HOST: "{web.host}", DB: "{db}"}
`)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := p.Names()
	ph := Placeholders{
		Port: func(s string, _ int) (int, bool) {
			return map[string]int{"db": 5440, "web": 5174}[s], s == "db" || s == "web"
		},
		Name: func(s string) string { return NameOf(names, s) },
		URL:  func(h string) string { return "https://" + h + ":1443" },
	}
	got, err := ph.Expand("{web.url} {web.host} {db} {web}")
	if err != nil || got != "https://web.shop.localhost:1443 web.shop.localhost 5440 5174" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := ph.Expand("{db.url}"); err == nil || !strings.Contains(err.Error(), "db has no name") {
		t.Fatalf("a database's url: %v", err)
	}
	_, err = loadText(t, "name: shop\nservices:\n  db: {image: postgres:15, ports: [\"5434:5432\"]}\nx-devenv:\n  env_files:\n    .env: {URL: \"{db.url}\"}\n")
	if err == nil || !strings.Contains(err.Error(), "db has no name") {
		t.Fatalf("loading {db.url}: %v", err)
	}
}

// devenv.localhost is the dashboard's: a project named devenv gets no main
// name, and no service may take it as its hostname.
func TestDashboardNameIsDevenvs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "docker-compose.dev.yml")
	os.WriteFile(file, []byte("name: devenv\nx-devenv:\n  host:\n    web: {port: 5173, role: vite}\nservices: {}\n"), 0o644)
	p, err := Load(t.Context(), Options{Files: []string{file}, WorkingDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	names, err := p.Names()
	if err != nil || len(names) != 1 || names[0].Host != "web.devenv.localhost" {
		t.Fatalf("names of project devenv: %v %v", names, err)
	}
	os.WriteFile(file, []byte("name: shop\nx-devenv:\n  host:\n    web: {port: 5173, hostname: devenv.localhost}\nservices: {}\n"), 0o644)
	if p, err = Load(t.Context(), Options{Files: []string{file}, WorkingDir: dir}); err == nil {
		_, err = p.Names()
	}
	if err == nil || !strings.Contains(err.Error(), "devenv ui's own") {
		t.Fatalf("hostname devenv.localhost: %v", err)
	}
}
