package sockets

import (
	"net"
	"os"
	"runtime"
	"testing"
)

func TestListeningFindsThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	socks, err := Listening(t.Context(), map[int]bool{port: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range socks {
		if s.Port == port && s.Protocol == "tcp" {
			found = true
			if s.PID != os.Getpid() || s.Addr != "127.0.0.1" || s.Command == "" {
				t.Fatalf("socket %+v, want pid %d on 127.0.0.1", s, os.Getpid())
			}
		}
	}
	if !found {
		t.Fatalf("port %d not listed", port)
	}
	// Without asking, owners are not looked up.
	socks, _ = Listening(t.Context(), nil)
	for _, s := range socks {
		if s.Port == port && s.PID != 0 {
			t.Fatalf("owner resolved without being asked: %+v", s)
		}
	}
}

func TestPrintableCommand(t *testing.T) {
	if got := printable("sh -c echo a\nb\tc\x1b[31m"); got != "sh -c echo a b c [31m" {
		t.Errorf("printable = %q", got)
	}
}
