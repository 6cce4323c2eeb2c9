package hostports

import "context"

// Socket is a listening (tcp) or bound (udp) socket.
type Socket struct {
	Port     int
	Protocol string // tcp or udp
	Addr     string
	PID      int    // 0 when the process cannot be seen
	Command  string // process name, when known
}

// Listening lists the listening sockets on ports (all ports when ports is
// empty).
func Listening(ctx context.Context, ports map[int]bool) ([]Socket, error) {
	return listening(ctx, ports)
}
