package main

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// composeFormatOf checks a --format where compose takes table, json or a Go
// template.
func composeFormatOf(f string) (string, error) {
	if isTemplate(f) {
		return f, nil
	}
	return checkFormat(f, "table", "json")
}

// checkFormat checks a --format against the allowed values.
func checkFormat(f string, allowed ...string) (string, error) {
	if slices.Contains(allowed, f) {
		return f, nil
	}
	return "", usagef("--format %q: use %s", f, strings.Join(allowed, ", "))
}

// writeJSONLines prints one JSON object per line.
func writeJSONLines[T any](w io.Writer, rows []T) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// indexFlag is compose's --index: which of a service's containers.
func indexFlag(dst *int) cli.Flag {
	return &cli.IntFlag{Name: "index", Value: 1, Usage: "index of the container (devenv runs one per service)", Destination: dst}
}

// checkIndex accepts --index 1, the one container devenv runs per service.
func checkIndex(command string, n int) error {
	if n != 1 {
		return usagef("%s: --index %d: devenv runs one container per service, number 1", command, n)
	}
	return nil
}

// givenFlags says which flags the command line gave, for the few options
// where given at all means something (compose's attached mode, --hash,
// --entrypoint ""); options built without a command line give none.
type givenFlags struct{ isSet func(name string) bool }

func (g givenFlags) given(name string) bool { return g.isSet != nil && g.isSet(name) }
