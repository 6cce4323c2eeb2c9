package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/hostports"
)

// RelayArg is the argument that makes devenv the relay: the relay
// container's entrypoint is devenv RelayArg, its command serve.
const RelayArg = "__relay"

// Listening is the relay's listing of the engine host's sockets.
type Listening struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	Addr     string `json:"addr"`
}

// Relay is devenv as the relay inside the engine: `serve` keeps the
// container running until it is stopped, `dial HOST:PORT` connects its
// stdin and stdout to that address on the engine's host, `listening`
// prints the host's listening sockets as JSON.
func Relay(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "relay: serve, dial HOST:PORT or listening")
		return 2
	}
	switch args[0] {
	case "serve":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
		<-sigs
		return 0
	case "dial":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "relay: dial HOST:PORT")
			return 2
		}
		return dialStdio(args[1], stdin, stdout, stderr)
	case "listening":
		socks, err := hostports.Listening(context.Background(), nil)
		if err != nil {
			fmt.Fprintln(stderr, "relay:", err)
			return 1
		}
		out := make([]Listening, 0, len(socks))
		for _, s := range socks {
			out = append(out, Listening{Port: s.Port, Protocol: s.Protocol, Addr: s.Addr})
		}
		_ = json.NewEncoder(stdout).Encode(out)
		return 0
	}
	fmt.Fprintf(stderr, "relay: unknown command %q\n", args[0])
	return 2
}

func dialStdio(addr string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 1
	}
	conn := c.(*net.TCPConn)
	defer conn.Close()
	go func() {
		_, _ = io.Copy(conn, stdin)
		_ = conn.CloseWrite()
	}()
	if _, err := io.Copy(stdout, conn); err != nil {
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 1
	}
	return 0
}
