package orchestrator

import (
	"slices"
	"strings"
	"testing"
)

// connect's client gets the service's own password in its environment,
// never on its command line; --url carries it.
func TestConnectCredentials(t *testing.T) {
	cases := []struct {
		name, service, file string
		cmd, env            []string
		url                 string
	}{
		{"official postgres", "db", `
  db:
    image: postgres:15
    environment: {POSTGRES_USER: app, POSTGRES_PASSWORD: pw, POSTGRES_DB: appdb}
    ports: ["5434:5432"]`, []string{"psql", "-U", "app", "-d", "appdb"}, []string{"PGPASSWORD=pw"}, "postgresql://app:pw@127.0.0.1:5434/appdb"},
		{"bitnami postgres", "db", `
  db:
    image: bitnami/postgresql:15
    environment: {POSTGRESQL_USERNAME: bit, POSTGRESQL_PASSWORD: npw, POSTGRESQL_DATABASE: bitdb}
    ports: ["5434:5432"]`, []string{"psql", "-U", "bit", "-d", "bitdb"}, []string{"PGPASSWORD=npw"}, "postgresql://bit:npw@127.0.0.1:5434/bitdb"},
		{"postgres from a URL", "db", `
  db:
    image: postgres:15
    environment: {DATABASE_URL: "postgres://u:urlpw@localhost/urldb"}
    ports: ["5434:5432"]`, []string{"psql", "-U", "u", "-d", "urldb"}, []string{"PGPASSWORD=urlpw"}, "postgresql://u:urlpw@127.0.0.1:5434/urldb"},
		{"postgres without a password", "db", `
  db:
    image: postgres:15
    ports: ["5434:5432"]`, []string{"psql", "-U", "postgres", "-d", "postgres"}, nil, "postgresql://postgres@127.0.0.1:5434/postgres"},
		{"redis requirepass", "cache", `
  cache:
    image: redis:7
    command: ["redis-server", "--requirepass", "rpw"]
    ports: ["6380:6379"]`, []string{"redis-cli"}, []string{"REDISCLI_AUTH=rpw"}, "redis://:rpw@127.0.0.1:6380"},
		{"bitnami redis", "cache", `
  cache:
    image: bitnami/redis:7
    environment: {REDIS_PASSWORD: bpw}
    ports: ["6380:6379"]`, []string{"redis-cli"}, []string{"REDISCLI_AUTH=bpw"}, "redis://:bpw@127.0.0.1:6380"},
		{"redis without a password", "cache", `
  cache:
    image: redis:7
    ports: ["6380:6379"]`, []string{"redis-cli"}, nil, "redis://127.0.0.1:6380"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBed(t, "name: demo\nservices:"+c.file+"\n")
			cl, err := b.o.Connect(t.Context(), b.project(), c.service, true)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cl.Cmd, c.cmd) || !slices.Equal(cl.Env, c.env) || cl.URL != c.url {
				t.Fatalf("got cmd %q env %q url %q", cl.Cmd, cl.Env, cl.URL)
			}
			for _, e := range c.env {
				_, pw, _ := strings.Cut(e, "=")
				if slices.ContainsFunc(cl.Cmd, func(a string) bool { return strings.Contains(a, pw) }) {
					t.Fatalf("the password is on the command line: %q", cl.Cmd)
				}
			}
		})
	}
}
