//go:build darwin

package sockets

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
)

// listening asks lsof, the system's own tool, for listening TCP sockets and
// bound UDP sockets.
func listening(ctx context.Context, _ map[int]bool) ([]Socket, error) {
	out, err := exec.CommandContext(ctx, "lsof", "-nP", "-iTCP", "-sTCP:LISTEN", "-iUDP", "-FpcnPt").Output()
	if err != nil && len(out) == 0 {
		return nil, nil
	}
	var socks []Socket
	pid, cmd, proto := 0, "", ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		v := line[1:]
		switch line[0] {
		case 'p':
			pid, _ = strconv.Atoi(v)
		case 'c':
			cmd = v
		case 'P':
			proto = strings.ToLower(v)
		case 'n':
			i := strings.LastIndex(v, ":")
			if i < 0 || strings.Contains(v, "->") {
				continue
			}
			port, err := strconv.Atoi(v[i+1:])
			if err != nil {
				continue
			}
			socks = append(socks, Socket{Port: port, Protocol: proto, Addr: v[:i], PID: pid, Command: cmd})
		}
	}
	return socks, nil
}
