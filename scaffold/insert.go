package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrHasBlock is a compose file that has an x-devenv block already.
var ErrHasBlock = errors.New("the compose file has an x-devenv block already")

var (
	topBlock  = regexp.MustCompile(`(?m)^["']?x-devenv["']?\s*:`)
	topKey    = regexp.MustCompile(`(?m)^[^\s#]`)
	indented  = regexp.MustCompile(`(?m)^[ \t]+\S.*(\r?\n|$)`)
	servicesK = regexp.MustCompile(`(?m)^services:`)
)

// Has says whether src has a top-level x-devenv block.
func Has(src []byte) bool { return topBlock.Match(src) }

// Insert puts block into the compose file src and changes no other byte:
// before the top-level services: key (at the end when there is none), in
// the file's own line endings. An existing top-level x-devenv block is
// ErrHasBlock unless force, which replaces its lines (comments and blank
// lines after its last line stay).
func Insert(src []byte, block string, force bool) ([]byte, error) {
	if !strings.HasSuffix(block, "\n") {
		block += "\n"
	}
	crlf := bytes.Contains(src, []byte("\r\n"))
	lines := func(s string) []byte {
		if crlf {
			return bytes.ReplaceAll([]byte(s), []byte("\n"), []byte("\r\n"))
		}
		return []byte(s)
	}
	add := lines(block + "\n") // and a blank line before what follows
	if loc := topBlock.FindIndex(src); loc != nil {
		if !force {
			return nil, ErrHasBlock
		}
		// The block: its key's line and the indented lines under it, up to
		// the next top-level key.
		end := len(src)
		if next := topKey.FindIndex(src[loc[1]:]); next != nil {
			end = loc[1] + next[0]
		}
		last := len(src) // after the key's line
		if nl := bytes.IndexByte(src[loc[1]:], '\n'); nl >= 0 {
			last = loc[1] + nl + 1
		}
		base := last
		for _, m := range indented.FindAllIndex(src[base:end], -1) {
			if !bytes.HasPrefix(bytes.TrimLeft(src[base+m[0]:base+m[1]], " \t"), []byte("#")) {
				last = base + m[1]
			}
		}
		return concat(src[:loc[0]], lines(block), src[last:]), nil
	}
	at := len(src)
	if loc := servicesK.FindIndex(src); loc != nil {
		at = loc[0]
	} else if len(src) > 0 && src[len(src)-1] != '\n' {
		return nil, fmt.Errorf("the compose file has no services: key and does not end with a newline")
	}
	return concat(src[:at], add, src[at:]), nil
}

func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
