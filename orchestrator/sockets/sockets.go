package sockets

import "context"

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
	return listening(ctx, resolve)
}
