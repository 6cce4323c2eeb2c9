package main

import (
	"regexp"
	"sort"
	"strings"

	"github.com/devenv-dev/devenv/compose"
)

var (
	secretName = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL)`)
	// NAME=value or NAME: value of a secret-looking name, the name
	// starting a word that is no path's (/etc/passwd: or /tmp/secret: in a
	// message is not an assignment).
	secretAssign = regexp.MustCompile(`((?:^|[^/\w])(?i:[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY)[A-Z0-9_]*)\s*[=:]\s*)([^\s,;"'&]+)`)
	urlCreds     = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+:)([^@/\s]+)(@)`)
)

// secretValues collects the values of environment variables that look like
// secrets, and passwords inside URLs, so they are never printed.
func secretValues(p *compose.Project) []string {
	// A password that is also a name in the project ("postgres") would hide
	// the name everywhere; such values are masked only as KEY=value.
	names := map[string]bool{p.Name(): true}
	for name, svc := range p.Model.Services {
		names[name] = true
		names[svc.ContainerName] = true
		for _, part := range strings.FieldsFunc(svc.Image, func(r rune) bool { return r == '/' || r == ':' || r == '@' }) {
			names[part] = true
		}
	}
	var out []string
	for _, svc := range p.Model.Services {
		for k, v := range svc.Environment {
			if v == nil || len(*v) < 3 {
				continue
			}
			if secretName.MatchString(k) && !names[*v] {
				out = append(out, *v)
			}
			for _, m := range urlCreds.FindAllStringSubmatch(*v, -1) {
				if len(m[2]) >= 3 && !names[m[2]] {
					out = append(out, m[2])
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// mask hides known secret values and any password in a URL.
func mask(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, "****")
	}
	s = urlCreds.ReplaceAllString(s, "${1}****${3}")
	return secretAssign.ReplaceAllString(s, "${1}****")
}
