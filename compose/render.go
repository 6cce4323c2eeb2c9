package compose

import (
	"bytes"
	"fmt"
	"strconv"
)

// Render prints the resolved model as docker compose config does, with the
// given published-port overrides (service → target/protocol → host port)
// applied, so the output shows the ports devenv will really publish.
func (p *Project) Render(format string, assigned map[string]map[string]int) ([]byte, error) {
	m, err := p.Model.WithServicesEnvironmentResolved(true)
	if err != nil {
		return nil, &ConfigError{File: p.MainFile(), Msg: err.Error()}
	}
	for name, svc := range m.Services {
		changed := false
		for i, pc := range svc.Ports {
			proto := pc.Protocol
			if proto == "" {
				proto = "tcp"
			}
			if port, ok := assigned[name][fmt.Sprintf("%d/%s", pc.Target, proto)]; ok && pc.Published != "" && pc.Published != strconv.Itoa(port) {
				svc.Ports[i].Published = strconv.Itoa(port)
				changed = true
			}
		}
		if changed {
			m.Services[name] = svc
		}
	}
	var out []byte
	switch format {
	case "json":
		out, err = m.MarshalJSON()
	default:
		out, err = m.MarshalYAML()
	}
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(out, []byte("$"), []byte("$$")), nil
}
