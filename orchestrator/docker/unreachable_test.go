package docker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// An engine that does not answer is said in devenv's words, with the fix,
// never the client library's "check if the path is correct".
func TestUnreachableSaysWhyAndWhatToDo(t *testing.T) {
	dial := func(errno syscall.Errno) error {
		return fmt.Errorf("failed to connect to the docker API at unix:///x; check if the path is correct and if the daemon is running: %w",
			&net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", errno)})
	}
	for _, tc := range []struct {
		err  error
		how  string
		want string
	}{
		{dial(syscall.ENOENT), "DOCKER_HOST", "no engine socket there; check DOCKER_HOST"},
		{dial(syscall.ENOENT), "the default socket", "no engine socket there; start Docker"},
		{dial(syscall.ECONNREFUSED), "DOCKER_HOST", "nothing listens there"},
		{dial(syscall.EACCES), "the default socket", "add your user to the docker group"},
		{errors.New("Cannot connect to the Docker daemon at tcp://127.0.0.1:1. Is the docker daemon running?"), "DOCKER_HOST", "nothing listens there"},
	} {
		got := unreachable(tc.err, Endpoint{How: tc.how})
		if !strings.Contains(got, tc.want) || strings.Contains(got, "check if the path is correct") {
			t.Errorf("unreachable(%v, %s) = %q, want %q", tc.err, tc.how, got, tc.want)
		}
	}
}
