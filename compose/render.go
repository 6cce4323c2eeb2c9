package compose

import (
	"bytes"
	"strconv"
)

// Render prints the resolved model as docker compose config does, with the
// given published-port overrides (service → index in its ports list → host
// port) applied, so the output shows the ports devenv will really publish.
func (p *Project) Render(format string, assigned map[string]map[int]int) ([]byte, error) {
	m, err := p.Model.WithServicesEnvironmentResolved(true)
	if err != nil {
		return nil, &ConfigError{File: p.MainFile(), Msg: err.Error()}
	}
	for name, svc := range m.Services {
		changed := false
		for i, pc := range svc.Ports {
			if port, ok := assigned[name][i]; ok && pc.Published != "" && pc.Published != strconv.Itoa(port) {
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
