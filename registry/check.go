package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Conflict is one finding of Check.
type Conflict struct {
	Port     int      `json:"port"`
	Protocol string   `json:"protocol"`
	Engine   string   `json:"engine,omitempty"`
	Claims   []Holder `json:"claims"`
	Holders  []Holder `json:"holders,omitempty"`
}

func (c Conflict) String() string {
	var parts []string
	for _, h := range c.Claims {
		parts = append(parts, h.String())
	}
	for _, h := range c.Holders {
		parts = append(parts, h.String())
	}
	return fmt.Sprintf("%d/%s: %s", c.Port, c.Protocol, strings.Join(parts, "; "))
}

// Check finds ports claimed twice, and claimed ports held by something other
// than the claiming project. Claims on every engine share this machine's
// ports (a remote engine's are forwarded here). occupied(engine) gives the
// holders seen for a project on that engine: this machine's, and the
// engine's host's where it can be probed; it may return nil.
func Check(reg *Registry, occupied func(engine string) Occupied) []Conflict {
	type claimSet struct {
		key     portKey
		claims  []Holder
		host    []bool
		ips     []string
		engines []string
	}
	sets := map[portKey]*claimSet{}
	var order []portKey
	for _, p := range reg.Projects {
		for _, r := range p.Reservations {
			k := portKey{r.Port, r.Protocol}
			cs, ok := sets[k]
			if !ok {
				cs = &claimSet{key: k}
				sets[k] = cs
				order = append(order, k)
			}
			cs.claims = append(cs.claims, p.Claim(r.Service))
			cs.host = append(cs.host, r.Host)
			cs.ips = append(cs.ips, r.HostIP)
			if !slices.Contains(cs.engines, p.Engine) {
				cs.engines = append(cs.engines, p.Engine)
			}
		}
	}
	var out []Conflict
	for _, k := range order {
		cs := sets[k]
		c := Conflict{Port: cs.key.port, Protocol: cs.key.proto, Claims: cs.claims}
		if len(cs.engines) == 1 && cs.engines[0] != "" {
			c.Engine = cs.claims[0].Engine
		}
		bad := len(cs.claims) > 1 && !disjointOwnClaims(cs.claims, cs.ips)
		seen := map[string]bool{}
		for _, engine := range cs.engines {
			if occupied == nil {
				break
			}
			occ := occupied(engine)
			if occ == nil {
				continue
			}
			for _, h := range occ(cs.key.port, cs.key.proto) {
				if seen[h.String()] {
					continue
				}
				seen[h.String()] = true
				if (len(cs.claims) == 1 || disjointOwnClaims(cs.claims, cs.ips)) && OwnedBy(h, cs.claims[0], cs.host[0]) {
					continue
				}
				c.Holders = append(c.Holders, h)
				bad = true
			}
		}
		if bad {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

// disjointOwnClaims: one project's claims on one port on addresses that
// cannot collide (127.0.0.1 and ::1) are not a conflict.
func disjointOwnClaims(claims []Holder, ips []string) bool {
	for i := range claims {
		for j := i + 1; j < len(claims); j++ {
			if claims[i].Project != claims[j].Project || overlap(ips[i], ips[j]) {
				return false
			}
		}
	}
	return true
}

// OwnedBy says whether holder h is the claiming project itself: its own
// compose container (on its engine), a process of its own on this machine
// (its port forward, a host service of its), or, for a host service's
// port, the developer's process.
func OwnedBy(h, claim Holder, host bool) bool {
	switch h.Kind {
	case "container":
		return h.Project == claim.Project && h.EngineID == claim.EngineID
	case "process", "unknown":
		return host && h.Engine == "" || h.Project != "" && h.Project == claim.Project && h.Engine == ""
	}
	return false
}
