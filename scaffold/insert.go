package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
)

// ErrHasBlock is a compose file that has an x-devenv block already.
var ErrHasBlock = errors.New("the compose file has an x-devenv block already")

var (
	topBlock  = regexp.MustCompile(`(?m)^x-devenv:`)
	topKey    = regexp.MustCompile(`(?m)^[^\s#]`)
	servicesK = regexp.MustCompile(`(?m)^services:`)
)

// Insert puts block into the compose file src and changes no other byte:
// before the top-level services: key (at the end when there is none),
// followed by a blank line. An existing top-level x-devenv block is
// ErrHasBlock unless force, which replaces it (up to the next top-level
// key).
func Insert(src []byte, block string, force bool) ([]byte, error) {
	add := []byte(block + "\n")
	if loc := topBlock.FindIndex(src); loc != nil {
		if !force {
			return nil, ErrHasBlock
		}
		end := len(src)
		if next := topKey.FindIndex(src[loc[1]:]); next != nil {
			end = loc[1] + next[0]
		}
		return concat(src[:loc[0]], add, src[end:]), nil
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
