// Package dbclient knows the clients of the database services devenv
// connects to (PostgreSQL's psql, Redis's redis-cli): which one a
// service's role takes, the service's own credentials as its image reads
// them, and the URL a tool on this machine would use.
package dbclient

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devenv-dev/devenv/compose"
)

// Client is a service's own client, as connect runs it inside the
// container, and the URL a tool on this machine would use.
type Client struct {
	Service string
	Role    string
	Cmd     []string
	// Env is what the client needs in its environment: the service's own
	// password (PGPASSWORD, REDISCLI_AUTH), never on its command line
	// where ps would show it.
	Env []string
	URL string
}

// roles are the roles devenv knows a client for.
var roles = []string{"postgres", "redis"}

// For is the client of the project's service, by its role.
func For(p *compose.Project, service string) (Client, error) {
	svc := p.Model.Services[service]
	role := compose.Role(p.ServiceX[service].Role, svc.Image, service)
	c := Client{Service: service, Role: role}
	cred := credentialsOf(svc, role)
	switch role {
	case "postgres":
		c.Cmd = []string{"psql", "-U", cred.user, "-d", cred.db}
		if cred.password != "" {
			c.Env = []string{"PGPASSWORD=" + cred.password}
		}
	case "redis":
		c.Cmd = []string{"redis-cli"}
		if cred.password != "" {
			c.Env = []string{"REDISCLI_AUTH=" + cred.password}
		}
	default:
		return Client{}, &compose.ConfigError{File: p.MainFile(), Key: "services." + service,
			Msg: fmt.Sprintf("devenv connect knows PostgreSQL and Redis clients, and %s has role %q; use devenv exec %s sh", service, role, service)}
	}
	return c, nil
}

// Port is the container port a role's clients connect to.
func Port(role string) int {
	return map[string]int{"postgres": 5432, "redis": 6379}[role]
}

// URL is the service's URL at the host address and port it is published
// on, with its own credentials.
func URL(svc types.ServiceConfig, role, hostIP string, port int) string {
	cred := credentialsOf(svc, role)
	if hostIP == "" || hostIP == "0.0.0.0" || hostIP == "::" {
		hostIP = "127.0.0.1"
	}
	hp := net.JoinHostPort(hostIP, strconv.Itoa(port))
	if role == "postgres" {
		u := url.URL{Scheme: "postgresql", User: url.UserPassword(cred.user, cred.password), Host: hp, Path: "/" + cred.db}
		if cred.password == "" {
			u.User = url.User(cred.user)
		}
		return u.String()
	}
	u := url.URL{Scheme: "redis", Host: hp}
	if cred.password != "" {
		u.User = url.UserPassword("", cred.password)
	}
	return u.String()
}

// Default is the service connect uses when none is named: the
// project's only PostgreSQL service, else its only service connect has a
// client for.
func Default(p *compose.Project) (string, error) {
	// The project's database: its only PostgreSQL service, else its
	// only service connect has a client for.
	byRole := map[string][]string{}
	var found []string
	for _, name := range p.Model.ServiceNames() {
		svc := p.Model.Services[name]
		if role := compose.Role(p.ServiceX[name].Role, svc.Image, name); slices.Contains(roles, role) {
			byRole[role] = append(byRole[role], name)
			found = append(found, name)
		}
	}
	if len(byRole["postgres"]) == 1 {
		found = byRole["postgres"]
	}
	if len(found) != 1 {
		what := "none"
		if len(found) > 1 {
			what = strings.Join(found, ", ")
		}
		return "", &compose.ConfigError{File: p.MainFile(), Key: "services",
			Msg: fmt.Sprintf("name the service to connect to: devenv connect SERVICE (PostgreSQL or Redis services: %s)", what)}
	}
	return found[0], nil
}

// credentials are a database service's own user, password and database.
type credentials struct{ user, password, db string }

// credentialsOf reads a service's credentials the way its image does:
// PostgreSQL from POSTGRES_USER/_PASSWORD/_DB (the official image) or
// POSTGRESQL_USERNAME/_PASSWORD/_DATABASE (Bitnami's), else from a
// DATABASE_URL; Redis from REDIS_PASSWORD or --requirepass in its command.
func credentialsOf(svc types.ServiceConfig, role string) credentials {
	env := func(keys ...string) string {
		for _, k := range keys {
			if v := svc.Environment[k]; v != nil && *v != "" {
				return *v
			}
		}
		return ""
	}
	var c credentials
	switch role {
	case "postgres":
		c = credentials{user: env("POSTGRES_USER", "POSTGRESQL_USERNAME"), password: env("POSTGRES_PASSWORD", "POSTGRESQL_PASSWORD"), db: env("POSTGRES_DB", "POSTGRESQL_DATABASE")}
		if u, err := url.Parse(env("DATABASE_URL")); err == nil && u.User != nil {
			if c.user == "" {
				c.user = u.User.Username()
			}
			if pw, ok := u.User.Password(); ok && c.password == "" {
				c.password = pw
			}
			if c.db == "" {
				c.db = strings.TrimPrefix(u.Path, "/")
			}
		}
		if c.user == "" {
			c.user = "postgres"
		}
		if c.db == "" {
			c.db = c.user
		}
	case "redis":
		c.password = env("REDIS_PASSWORD")
		args := append(slices.Clone([]string(svc.Entrypoint)), svc.Command...)
		for i, a := range args {
			if v, ok := strings.CutPrefix(a, "--requirepass="); ok {
				c.password = v
			} else if a == "--requirepass" && i+1 < len(args) {
				c.password = args[i+1]
			}
		}
	}
	return c
}
