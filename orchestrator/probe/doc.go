// Package probe checks that a service answers as what it is: HTTP, the
// PostgreSQL wire protocol, Redis PING, or a TCP connection. Each check
// returns a status of health's (healthy, unhealthy, down, starting) and a
// short detail.
package probe
