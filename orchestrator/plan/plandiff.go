package plan

import (
	"slices"
	"strconv"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/engine"
)

func recreateReason(ds *DesiredService, c Container, o *Observed, force bool) string {
	switch {
	case force:
		return "--force-recreate"
	case c.Name != ds.Spec.Name:
		return "container name changed"
	case c.Labels[LabelConfigHash] != ds.Hash:
		return "configuration changed"
	case !SameBindings(ds.Spec.Ports, c.Ports):
		return "published ports changed"
	}
	if id, ok := o.Images[engine.NormalizeRef(ds.Spec.Image)]; ok {
		have := c.Labels[LabelImage]
		if have == "" {
			have = c.ImageID
		}
		if have != "" && have != id {
			return "image changed"
		}
	}
	if !sameMountSources(ds.Spec.Mounts, c.Mounts) {
		return "mounts changed"
	}
	return ""
}

// SameBindings compares the bindings devenv would create with those the
// engine reports for the container, whoever created it: the same host
// ports on the same addresses. The engine lists an unspecified address as
// 0.0.0.0 and ::; a host-port range for one container port ("8000-8010:80")
// is satisfied by any port of the range, and a port left to the engine by
// any port.
func SameBindings(want, have []PortBinding) bool {
	norm := func(ip string) string {
		if ip == "" || ip == "0.0.0.0" || ip == "::" {
			return "*"
		}
		return ip
	}
	matches := func(w, h PortBinding) bool {
		if norm(w.HostIP) != norm(h.HostIP) || w.Target != h.Target || w.Protocol != h.Protocol {
			return false
		}
		if w.HostPort == "" || w.HostPort == h.HostPort {
			return true
		}
		lo, hi, err := compose.ParsePublished(w.HostPort)
		port, perr := strconv.Atoi(h.HostPort)
		return err == nil && perr == nil && hi > 0 && port >= lo && port <= hi
	}
	for _, w := range want {
		if w.HostPort == "" {
			continue // the engine's pick; a stopped container has none yet
		}
		if !slices.ContainsFunc(have, func(h PortBinding) bool { return matches(w, h) }) {
			return false
		}
	}
	for _, h := range have {
		if h.HostPort == "" {
			continue // exposed only, or the engine will pick
		}
		if !slices.ContainsFunc(want, func(w PortBinding) bool { return matches(w, h) }) {
			return false
		}
	}
	return true
}

// sameMountSources compares the named volumes and binds the spec asks for
// with what the container has; anonymous volumes are ignored.
func sameMountSources(want []Mount, have []Mount) bool {
	got := map[string]string{}
	for _, m := range have {
		got[m.Target] = m.Source
	}
	for _, m := range want {
		if m.Type == "tmpfs" || (m.Type == "volume" && m.Source == "") {
			continue
		}
		src, ok := got[m.Target]
		if !ok {
			return false
		}
		if m.Type == "volume" && src != m.Source {
			return false
		}
	}
	return true
}

func networkUsed(d *Desired, services []string, name string) bool {
	for _, s := range services {
		for _, n := range d.Services[s].Spec.Networks {
			if n.Name == name {
				return true
			}
		}
	}
	return false
}

func volumeUsed(d *Desired, services []string, name string) bool {
	for _, s := range services {
		for _, m := range d.Services[s].Spec.Mounts {
			if m.Type == "volume" && m.Source == name {
				return true
			}
		}
	}
	return false
}
