//go:build linux

package sockets

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func listening(_ context.Context, resolve map[int]bool) ([]Socket, error) {
	var socks []Socket
	inodes := map[string][]int{} // inode → indexes in socks
	for _, src := range []struct{ file, proto, state string }{
		{"/proc/net/tcp", "tcp", "0A"}, {"/proc/net/tcp6", "tcp", "0A"},
		{"/proc/net/udp", "udp", "07"}, {"/proc/net/udp6", "udp", "07"},
	} {
		f, err := os.Open(src.file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != src.state {
				continue
			}
			addr, portHex, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			port64, err := strconv.ParseInt(portHex, 16, 32)
			if err != nil {
				continue
			}
			port := int(port64)
			s := Socket{Port: port, Protocol: src.proto, Addr: decodeAddr(addr)}
			if resolve[port] {
				inodes[fields[9]] = append(inodes[fields[9]], len(socks))
			}
			socks = append(socks, s)
		}
		f.Close()
	}
	if len(inodes) > 0 {
		owners(inodes, socks)
	}
	return socks, nil
}

// owners finds the process of each socket inode by reading /proc/*/fd; the
// processes of other users stay unknown unless we are root.
func owners(inodes map[string][]int, socks []Socket) {
	procs, _ := os.ReadDir("/proc")
	left := len(inodes)
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			inode := strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")
			idx, ok := inodes[inode]
			if !ok {
				continue
			}
			cmd := command(pid)
			for _, i := range idx {
				if socks[i].PID == 0 {
					socks[i].PID, socks[i].Command = pid, cmd
				}
			}
			delete(inodes, inode)
			left--
			if left == 0 {
				return
			}
		}
	}
}

func command(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err == nil && len(b) > 0 {
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		args[0] = filepath.Base(args[0])
		s := strings.Join(args, " ")
		if len(s) > 80 {
			s = s[:77] + "..."
		}
		return s
	}
	b, _ = os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func decodeAddr(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return h
	}
	// /proc stores each 32-bit word in host (little-endian) order.
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b).String()
}
