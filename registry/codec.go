package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var lineRe = regexp.MustCompile(`line (\d+)`)

// Decode parses registry bytes; file names the source in errors. devenv
// writes the file in JSON syntax (which is YAML) because it decodes an order
// of magnitude faster; a file rewritten by hand in block YAML is read too.
func Decode(file string, data []byte) (*Registry, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &ParseError{File: file, Err: errors.New("file is empty")}
	}
	if trimmed[0] == '{' {
		if reg, err := decodeJSON(file, data); err == nil || !errors.Is(err, errNotJSON) {
			return reg, err
		}
	}
	var head struct {
		Version int `yaml:"version"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, parseErr(file, err)
	}
	if head.Version > Version {
		return nil, &ParseError{File: file, Line: 1, Err: &NewerVersionError{Have: head.Version, Want: Version}}
	}
	var reg Registry
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&reg); err != nil {
		return nil, parseErr(file, err)
	}
	if err := reg.Validate(); err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	return &reg, nil
}

func decodeJSON(file string, data []byte) (*Registry, error) {
	var head struct {
		Version int `json:"version"`
	}
	// devenv writes "version" first: read it without decoding the file
	// twice, so a newer file is refused before its new keys confuse us.
	if m := jsonVersion.FindSubmatch(data[:min(len(data), 256)]); m != nil {
		head.Version, _ = strconv.Atoi(string(m[1]))
	} else if err := json.Unmarshal(data, &head); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Maybe YAML flow style that is not JSON: let YAML decide.
			return nil, errNotJSON
		}
		return nil, &ParseError{File: file, Line: lineAt(data, jsonOffset(err)), Err: errors.New(strings.TrimPrefix(err.Error(), "json: "))}
	}
	if head.Version > Version {
		return nil, &ParseError{File: file, Line: 1, Err: &NewerVersionError{Have: head.Version, Want: Version}}
	}
	var reg Registry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&reg); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, errNotJSON
		}
		return nil, &ParseError{File: file, Line: lineAt(data, dec.InputOffset()), Err: errors.New(strings.Replace(strings.TrimPrefix(err.Error(), "json: "), "unknown field", "unknown key", 1))}
	}
	if err := reg.Validate(); err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	return &reg, nil
}

func jsonOffset(err error) int64 {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Offset
	}
	return 0
}

func lineAt(data []byte, off int64) int {
	if off <= 0 || off > int64(len(data)) {
		return 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func parseErr(file string, err error) error {
	line := 0
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = lineRe.ReplaceAllString(msg, "")
	msg = strings.Trim(strings.ReplaceAll(msg, "unmarshal errors:\n  ", ""), " :")
	return &ParseError{File: file, Line: line, Err: errors.New(msg)}
}

// Encode renders the registry in JSON syntax, which is YAML: one
// reservation per line, so the file stays readable and diffs stay small.
func Encode(reg *Registry) ([]byte, error) {
	reg.sort()
	reg.Version = Version
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"version\": %d", reg.Version)
	if reg.Publish != "" {
		pb, _ := json.Marshal(reg.Publish)
		fmt.Fprintf(&b, ",\n  \"publish\": %s", pb)
	}
	if len(reg.Rules) > 0 {
		rules, err := json.Marshal(reg.Rules)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, ",\n  \"rules\": %s", rules)
	}
	b.WriteString(",\n  \"projects\": [")
	for i, p := range reg.Projects {
		if i > 0 {
			b.WriteString(",")
		}
		head := struct {
			Name     string `json:"name"`
			Dir      string `json:"directory"`
			Engine   string `json:"engine,omitempty"`
			Endpoint string `json:"endpoint,omitempty"`
			Stack    string `json:"stack,omitempty"`
			Instance string `json:"instance,omitempty"`
		}{p.Name, p.Dir, p.Engine, p.Endpoint, p.Stack, p.Instance}
		hb, err := json.Marshal(head)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\n    %s, \"reservations\": [", hb[:len(hb)-1])
		for j, r := range p.Reservations {
			rb, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n      ")
			b.Write(rb)
		}
		if len(p.Reservations) > 0 {
			b.WriteString("\n    ")
		}
		b.WriteString("]")
		if len(p.Names) > 0 {
			nb, err := json.Marshal(p.Names)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, ", \"names\": %s", nb)
		}
		b.WriteString("}")
	}
	if len(reg.Projects) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	return b.Bytes(), nil
}

var (
	errNotJSON  = errors.New("not JSON")
	jsonVersion = regexp.MustCompile(`^\s*\{\s*"version"\s*:\s*(\d+)\s*[,}]`)
)
