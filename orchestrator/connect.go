package orchestrator

import (
	"context"
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

// connectRoles are the roles connect knows a client for.
var connectRoles = []string{"postgres", "redis"}

// Connect says how to reach a service's database: its client and, with
// its assigned host port, its URL. Without a service, the project's only
// one with a role connect knows.
func (o *Orchestrator) Connect(ctx context.Context, p *compose.Project, service string, withURL bool) (Client, error) {
	if service == "" {
		var err error
		if service, err = defaultDatabase(p); err != nil {
			return Client{}, err
		}
	}
	if _, ok := p.X.Host[service]; ok {
		return Client{}, hostServiceError(p, "connect", service)
	}
	if _, err := p.SelectServices([]string{service}); err != nil {
		return Client{}, err
	}
	svc := p.Model.Services[service]
	role := compose.Role(p.ServiceX[service].Role, svc.Image, service)
	c := Client{Service: service, Role: role}
	cred := credentialsOf(svc, role)
	user, pass, db := cred.user, cred.password, cred.db
	switch role {
	case "postgres":
		c.Cmd = []string{"psql", "-U", user, "-d", db}
		if pass != "" {
			c.Env = []string{"PGPASSWORD=" + pass}
		}
	case "redis":
		c.Cmd = []string{"redis-cli"}
		if pass != "" {
			c.Env = []string{"REDISCLI_AUTH=" + pass}
		}
	default:
		return Client{}, &compose.ConfigError{File: p.MainFile(), Key: "services." + service,
			Msg: fmt.Sprintf("devenv connect knows PostgreSQL and Redis clients, and %s has role %q; use devenv exec %s sh", service, role, service)}
	}
	if !withURL {
		return c, nil
	}
	res, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return Client{}, err
	}
	target := map[string]int{"postgres": 5432, "redis": 6379}[role]
	for _, b := range res.Bindings[service] {
		if b.Target != target || b.Protocol != "tcp" || b.Port == 0 {
			continue
		}
		host := b.HostIP
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		hp := net.JoinHostPort(host, strconv.Itoa(b.Port))
		if role == "postgres" {
			u := url.URL{Scheme: "postgresql", User: url.UserPassword(user, pass), Host: hp, Path: "/" + db}
			if pass == "" {
				u.User = url.User(user)
			}
			c.URL = u.String()
		} else {
			u := url.URL{Scheme: "redis", Host: hp}
			if pass != "" {
				u.User = url.UserPassword("", pass)
			}
			c.URL = u.String()
		}
		return c, nil
	}
	return Client{}, &compose.ConfigError{File: p.MainFile(), Key: "services." + service + ".ports",
		Msg: fmt.Sprintf("%s publishes no host port for %d, so nothing on this machine can reach it; publish one or use devenv connect %s", service, target, service)}
}

// defaultDatabase is the service connect uses when none is named: the
// project's only PostgreSQL service, else its only service connect has a
// client for.
func defaultDatabase(p *compose.Project) (string, error) {
	// The project's database: its only PostgreSQL service, else its
	// only service connect has a client for.
	byRole := map[string][]string{}
	var found []string
	for _, name := range p.Model.ServiceNames() {
		svc := p.Model.Services[name]
		if role := compose.Role(p.ServiceX[name].Role, svc.Image, name); slices.Contains(connectRoles, role) {
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
			if v := envValue(svc.Environment, k); v != "" {
				return v
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
