package proxy

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devenv-dev/devenv/registry"
)

// Route is where a name leads: a port on this machine's loopback, and the
// service behind it (for the error pages).
type Route struct {
	Host, Project, Dir, Service string
	// Addr is where the port is published: 127.0.0.1, or the reservation's
	// own address.
	Addr string
	Port int
	// HostService is a process devenv runs on this machine, not a
	// container. Engine is a remote engine's key ("" for this machine's).
	HostService bool
	Engine      string
}

// Table is every route of every project, by host name.
type Table struct {
	byHost map[string]Route
	hosts  []string
}

// TableOf reads the routes from the registry: each project's names, to the
// port its service's reservation holds now. A name whose reservation is
// gone has no route.
func TableOf(reg *registry.Registry) *Table {
	t := &Table{byHost: map[string]Route{}}
	for _, p := range reg.Projects {
		for _, n := range p.Names {
			res, ok := p.Route(n)
			if !ok {
				continue
			}
			if _, dup := t.byHost[n.Host]; dup {
				continue // two projects claiming one name: the first keeps it
			}
			addr := "127.0.0.1"
			if ip := res.HostIP; ip != "" && ip != "0.0.0.0" && ip != "::" {
				addr = ip
			}
			t.byHost[n.Host] = Route{Host: n.Host, Project: p.Name, Dir: p.Dir, Service: n.Service, Addr: addr, Port: res.Port, HostService: res.Host, Engine: p.Engine}
			t.hosts = append(t.hosts, n.Host)
		}
	}
	slices.Sort(t.hosts)
	return t
}

// Lookup is the route of host (a request's Host, port and case aside).
func (t *Table) Lookup(host string) (Route, bool) {
	r, ok := t.byHost[hostOnly(host)]
	return r, ok
}

// Hosts are the routed names, sorted.
func (t *Table) Hosts() []string { return t.hosts }

// hostOnly is a Host header without its port, lower case, without a
// trailing dot.
func hostOnly(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
}

// Routes holds the current table and follows the registry file: a change
// is read within one poll interval, without restarting anything.
type Routes struct {
	path    string
	current atomic.Pointer[Table]
	mu      sync.Mutex // one reload at a time
	seen    fileStamp
}

type fileStamp struct {
	size    int64
	modTime time.Time
	ino     uint64
}

// NewRoutes reads the registry at path once; Follow keeps it current.
func NewRoutes(path string) *Routes {
	r := &Routes{path: path}
	r.current.Store(&Table{byHost: map[string]Route{}})
	r.reload()
	return r
}

// Table is the routes as last read.
func (r *Routes) Table() *Table { return r.current.Load() }

// Follow re-reads the registry whenever its file changes, every interval,
// until ctx ends. A file that does not parse keeps the routes as they were.
func (r *Routes) Follow(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.reload()
		}
	}
}

// Reload reads the registry now (devenv up signals the proxy once it has
// written names, so they answer without waiting for the next poll).
func (r *Routes) Reload() { r.reload() }

func (r *Routes) reload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	info, err := os.Stat(r.path)
	if err != nil {
		if os.IsNotExist(err) && r.seen != (fileStamp{}) {
			r.seen = fileStamp{}
			r.current.Store(&Table{byHost: map[string]Route{}})
		}
		return
	}
	stamp := fileStamp{size: info.Size(), modTime: info.ModTime(), ino: inode(info)}
	if stamp == r.seen {
		return
	}
	data, err := os.ReadFile(r.path)
	if err != nil {
		return
	}
	reg, err := registry.Decode(r.path, data)
	if err != nil {
		return
	}
	r.seen = stamp
	r.current.Store(TableOf(reg))
}
