// Command standin is the example project's stand-in for its host services
// where the real ones are not installed: it is NOT Phoenix or Vite. It
// serves a page on 127.0.0.1:$PORT saying what it stands in for
// ($STANDIN_FOR), whose script does a WebSocket round trip (/ws) and reads
// server-sent events (/events), as live reload and live queries do; so
// `devenv up` brings the whole example stack up on any machine with Go, and
// its names can be tried in a browser. Like the real servers it checks who
// calls: standing in for Phoenix, as its check_origin, a WebSocket's Origin
// must be its own host (PHX_HOST, else localhost); as Vite does, the Host
// must be localhost, a
// name under .localhost, an IP address or one of
// __VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS. It is its own module, with no
// dependencies, so that it runs with `go run .` wherever the example is
// copied.
package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		log.Fatal("standin: PORT is not set")
	}
	what := os.Getenv("STANDIN_FOR")
	log.Printf("standin: serving 127.0.0.1:%s as a stand-in for %q (not the real thing)", port, what)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, html.EscapeString(what))
	})
	mux.HandleFunc("/ws", echo)
	mux.HandleFunc("/events", events)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, allowedHost(mux)))
}

const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>devenv example stand-in</title></head>
<body><p>devenv example stand-in for %s</p>
<p id="ws">websocket: waiting</p><p id="sse">events: waiting</p>
<script>
const show = (id, text) => { document.getElementById(id).textContent = text; };
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
ws.onopen = () => ws.send("ping");
ws.onmessage = (e) => { show("ws", "websocket: " + e.data); ws.close(); };
ws.onerror = () => show("ws", "websocket: error");
let n = 0;
const es = new EventSource("/events");
es.onmessage = (e) => { n++; show("sse", "events: " + n + " (" + e.data + ")"); if (n >= 3) es.close(); };
es.onerror = () => { if (n < 3) show("sse", "events: error"); };
</script></body></html>
`

// allowedHost refuses a Host that is not this machine's, as Vite does
// against DNS rebinding.
func allowedHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		ok := host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(strings.Trim(host, "[]")) != nil
		for _, extra := range strings.Split(os.Getenv("__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS"), ",") {
			ok = ok || (extra != "" && (host == extra || (strings.HasPrefix(extra, ".") && strings.HasSuffix(host, extra))))
		}
		if !ok {
			http.Error(w, "Blocked request. This host ("+host+") is not allowed.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// events sends three server-sent events, one every 200 ms.
func events(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(w, "data: tick %d\n\n", i)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// echo is a WebSocket (RFC 6455) that sends each text message back. Its
// Origin must be its own host, as Phoenix's check_origin wants.
func echo(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "a WebSocket endpoint", http.StatusBadRequest)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && strings.HasPrefix(os.Getenv("STANDIN_FOR"), "mix") {
		own := os.Getenv("PHX_HOST")
		if own == "" {
			own = "localhost"
		}
		u, err := url.Parse(origin)
		if err != nil || u.Hostname() != own {
			http.Error(w, "Could not check origin for Phoenix.Socket transport: "+origin+" is not "+own, http.StatusForbidden)
			return
		}
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))
	if rw.Flush() != nil {
		return
	}
	for {
		op, msg, err := readFrame(rw.Reader)
		if err != nil || op == 0x8 { // closed
			return
		}
		if op == 0x1 {
			if writeFrame(conn, op, msg) != nil {
				return
			}
		}
	}
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	op, n := head[0]&0x0f, uint64(head[1]&0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	var mask [4]byte
	if head[1]&0x80 != 0 {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return 0, nil, err
		}
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return 0, nil, err
	}
	for i := range msg {
		msg[i] ^= mask[i%4]
	}
	return op, msg, nil
}

func writeFrame(w io.Writer, op byte, msg []byte) error {
	head := []byte{0x80 | op}
	switch n := len(msg); {
	case n < 126:
		head = append(head, byte(n))
	default:
		head = append(head, 126, byte(n>>8), byte(n))
	}
	_, err := w.Write(append(head, msg...))
	return err
}
