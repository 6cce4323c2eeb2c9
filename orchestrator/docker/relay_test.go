package docker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// frame is one frame of the engine's multiplexed stream.
func frame(stream byte, data string) []byte {
	h := make([]byte, 8)
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(data)))
	return append(h, data...)
}

// TestRelayConnDemultiplexes: stdout is what is read, across frames of
// any size (an empty one too) and reads of any size; stderr is kept for
// the error message; the stream's end is EOF.
func TestRelayConnDemultiplexes(t *testing.T) {
	var stream bytes.Buffer
	want := strings.Repeat("0123456789abcdef", 20000) // 320 000 bytes
	for i, rest := 0, want; len(rest) > 0; i++ {
		n := min(len(rest), 1+i*37%5000)
		stream.Write(frame(1, rest[:n]))
		rest = rest[n:]
		if i == 3 {
			stream.Write(frame(2, "relay: dial tcp: refused\n"))
			stream.Write(frame(1, ""))
		}
	}
	for _, size := range []int{1, 7, 4096, 1 << 20} {
		local, far := net.Pipe()
		far.Close()
		c := newRelayConn(client.HijackedResponse{Conn: local, Reader: bufio.NewReader(bytes.NewReader(stream.Bytes()))})
		var got bytes.Buffer
		buf := make([]byte, size)
		for {
			n, err := c.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("read size %d: %v", size, err)
			}
		}
		if got.String() != want {
			t.Fatalf("read size %d: %d bytes, want %d (first difference at %d)", size, got.Len(), len(want), firstDiff(got.String(), want))
		}
		if !strings.Contains(c.stderrText(), "refused") {
			t.Errorf("stderr: %q", c.stderrText())
		}
		c.Close()
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestRelayConnNeverWaitsWithDataInHand: stdout bytes are returned at
// once, though a stderr frame or an empty frame follows them only in part
// or only as a header.
func TestRelayConnNeverWaitsWithDataInHand(t *testing.T) {
	for name, after := range map[string][]byte{
		"a stderr header, its text not yet sent": frame(2, "relay: refused")[:10],
		"an empty stdout frame":                  frame(1, ""),
		"half a header":                          frame(1, "more")[:5],
	} {
		t.Run(name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			local, far := net.Pipe()
			defer far.Close()
			c := newRelayConn(client.HijackedResponse{Conn: local, Reader: bufio.NewReader(pr)})
			go pw.Write(append(frame(1, "hello"), after...))
			got := make(chan string, 1)
			go func() {
				buf := make([]byte, 64)
				n, _ := c.Read(buf)
				got <- string(buf[:n])
			}()
			select {
			case s := <-got:
				if s != "hello" {
					t.Fatalf("read %q", s)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("Read waited for more with 5 bytes in hand")
			}
		})
	}
}
