package orchestrator

import (
	"context"
	"fmt"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/dbclient"
)

// Client is a service's own client (see package dbclient).
type Client = dbclient.Client

// Connect says how to reach a service's database: its client and, with
// its assigned host port, its URL. Without a service, the project's only
// one with a role connect knows.
func (o *Orchestrator) Connect(ctx context.Context, p *compose.Project, service string, withURL bool) (Client, error) {
	if service == "" {
		var err error
		if service, err = dbclient.Default(p); err != nil {
			return Client{}, err
		}
	}
	if _, ok := p.X.Host[service]; ok {
		return Client{}, hostServiceError(p, "connect", service)
	}
	if _, err := p.SelectServices([]string{service}); err != nil {
		return Client{}, err
	}
	c, err := dbclient.For(p, service)
	if err != nil || !withURL {
		return c, err
	}
	res, err := o.ReconcilePorts(ctx, p, PortOptions{DryRun: true})
	if err != nil {
		return Client{}, err
	}
	target := dbclient.Port(c.Role)
	for _, b := range res.Bindings[service] {
		if b.Target != target || b.Protocol != "tcp" || b.Port == 0 {
			continue
		}
		c.URL = dbclient.URL(p.Model.Services[service], c.Role, b.HostIP, b.Port)
		return c, nil
	}
	return Client{}, &compose.ConfigError{File: p.MainFile(), Key: "services." + service + ".ports",
		Msg: fmt.Sprintf("%s publishes no host port for %d, so nothing on this machine can reach it; publish one or use devenv connect %s", service, target, service)}
}
