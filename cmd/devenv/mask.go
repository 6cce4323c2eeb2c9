package main

import (
	"regexp"
	"sort"
	"strings"

	"github.com/devenv-dev/devenv/compose"
)

var (
	secretName = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL)`)
	urlCreds   = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+:)([^@/\s]+)(@)`)
)

// secretValues collects the values of environment variables that look like
// secrets, and passwords inside URLs, so they are never printed.
func secretValues(p *compose.Project) []string {
	var out []string
	for _, svc := range p.Model.Services {
		for k, v := range svc.Environment {
			if v == nil || len(*v) < 3 {
				continue
			}
			if secretName.MatchString(k) {
				out = append(out, *v)
			}
			for _, m := range urlCreds.FindAllStringSubmatch(*v, -1) {
				if len(m[2]) >= 3 {
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
	return urlCreds.ReplaceAllString(s, "${1}****${3}")
}
