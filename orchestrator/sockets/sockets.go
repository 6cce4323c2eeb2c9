package sockets

import (
	"context"
	"strings"
	"unicode"
)

// Socket is a listening (tcp) or bound (udp) socket.
type Socket struct {
	Port     int
	Protocol string // tcp or udp
	Addr     string
	PID      int    // 0 when the process cannot be seen
	Command  string // process name, when known
}

// Listening lists every listening socket. Finding the process behind a
// socket means reading every process's file descriptors, so it is done only
// for the ports in resolve (none when resolve is nil).
func Listening(ctx context.Context, resolve map[int]bool) ([]Socket, error) {
	socks, err := listening(ctx, resolve)
	for i := range socks {
		socks[i].Command = printable(socks[i].Command)
	}
	return socks, err
}

// printable is a command line on one line: a newline or other control
// character in an argument would break a table row.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
