package forward

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/devenv-dev/devenv/orchestrator/sockets"
)

// RelayArg is the argument that makes devenv the relay: the relay
// container's entrypoint is devenv RelayArg, its command serve.
const RelayArg = "__relay"

// RelayProtocol names what the relay's commands and listing are; a change
// to them changes it, and a running relay of another protocol is replaced.
const RelayProtocol = "2"

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
		beacon, err := serveBeacon()
		if err != nil {
			fmt.Fprintln(stderr, "relay: no beacon port:", err) // ssh engines use the relay's exec then
		}
		tick := time.NewTicker(ListingEvery)
		defer tick.Stop()
		last := ""
		for {
			last = logListing(stdout, last, beacon)
			select {
			case <-sigs:
				return 0
			case <-tick.C:
			}
		}
	case "dial":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "relay: dial HOST:PORT")
			return 2
		}
		return dialStdio(args[1], stdin, stdout, stderr)
	case "listening":
		out, err := listing()
		if err != nil {
			fmt.Fprintln(stderr, "relay:", err)
			return 1
		}
		_, _ = stdout.Write(out)
		return 0
	}
	fmt.Fprintf(stderr, "relay: unknown command %q\n", args[0])
	return 2
}

// The serving relay prints the host's listening ports to its log whenever
// they change, one line of ListingPrefix, "proto:port,port…" fields and
// ListingEnd: devenv reads the log's last line, far quicker than starting a
// process in the container (or copying a file out of it) for each look.
// The end mark shows a line the log driver did not cut.
const (
	ListingPrefix = "devenv-relay-listening/1"
	ListingEnd    = "end"
	ListingEvery  = 250 * time.Millisecond
)

func listing() ([]byte, error) {
	socks, err := sockets.Listening(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	out := make([]Listening, 0, len(socks))
	for _, s := range socks {
		out = append(out, Listening{Port: s.Port, Protocol: s.Protocol, Addr: s.Addr})
	}
	b, err := json.Marshal(out)
	return append(b, '\n'), err
}

// Beacon is the relay's beacon port on the engine host's loopback: a
// connection to it is answered with BeaconGreeting and Token and closed.
// Over ssh, the forward asks for it through the SSH connection (ssh -W)
// to learn whether the server forwards TCP to the engine's host, with no
// connection to any service of the user's.
type Beacon struct {
	Port  int    `json:"port"`
	Token string `json:"token"`
}

// BeaconGreeting starts the beacon's answer.
const BeaconGreeting = "devenv-relay "

// serveBeacon listens on a port of the host's loopback that the kernel
// picks, answering every connection with the greeting and a token of
// its own.
func serveBeacon() (Beacon, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Beacon{}, err
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Beacon{}, err
	}
	p := Beacon{Port: ln.Addr().(*net.TCPAddr).Port, Token: hex.EncodeToString(b[:])}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(BeaconGreeting + p.Token + "\n"))
			c.Close()
		}
	}()
	return p, nil
}

// ListingLine is the log line for socks, with the beacon port (a field
// "probe=PORT/TOKEN", a name older relays log too) when there is one.
func ListingLine(socks []Listening, beacon Beacon) string {
	byProto := map[string][]int{}
	for _, s := range socks {
		if !slices.Contains(byProto[s.Protocol], s.Port) {
			byProto[s.Protocol] = append(byProto[s.Protocol], s.Port)
		}
	}
	fields := []string{ListingPrefix}
	if beacon.Port > 0 {
		fields = append(fields, fmt.Sprintf("probe=%d/%s", beacon.Port, beacon.Token))
	}
	for _, proto := range slices.Sorted(maps.Keys(byProto)) {
		ports := byProto[proto]
		slices.Sort(ports)
		nums := make([]string, len(ports))
		for i, p := range ports {
			nums[i] = strconv.Itoa(p)
		}
		fields = append(fields, proto+":"+strings.Join(nums, ","))
	}
	return strings.Join(append(fields, ListingEnd), " ")
}

// ParseListingLine reads a line of ListingLine; ok is false for any other
// line, or one cut short.
func ParseListingLine(line string) (socks []Listening, beacon Beacon, ok bool) {
	fields := strings.Fields(strings.TrimSpace(line))
	if len(fields) < 2 || fields[0] != ListingPrefix || fields[len(fields)-1] != ListingEnd {
		return nil, Beacon{}, false
	}
	socks = []Listening{}
	for _, f := range fields[1 : len(fields)-1] {
		if v, found := strings.CutPrefix(f, "probe="); found {
			port, token, _ := strings.Cut(v, "/")
			n, err := strconv.Atoi(port)
			if err != nil || token == "" {
				return nil, Beacon{}, false
			}
			beacon = Beacon{Port: n, Token: token}
			continue
		}
		proto, ports, found := strings.Cut(f, ":")
		if !found {
			return nil, Beacon{}, false
		}
		for _, p := range strings.Split(ports, ",") {
			n, err := strconv.Atoi(p)
			if err != nil {
				return nil, Beacon{}, false
			}
			socks = append(socks, Listening{Port: n, Protocol: proto})
		}
	}
	return socks, beacon, true
}

// logListing prints the listing when it differs from last.
func logListing(w io.Writer, last string, beacon Beacon) string {
	b, err := listing()
	if err != nil {
		return last
	}
	var socks []Listening
	if json.Unmarshal(b, &socks) != nil {
		return last
	}
	line := ListingLine(socks, beacon)
	if line != last {
		fmt.Fprintln(w, line)
	}
	return line
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
