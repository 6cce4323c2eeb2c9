package probe

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The statuses a check returns; the health command's.
const (
	Healthy   = "healthy"
	Unhealthy = "unhealthy"
	Down      = "down"
	Starting  = "starting"
)

// HTTP GETs url; 2xx is healthy.
func HTTP(ctx context.Context, url string) (string, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Unhealthy, err.Error()
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		if isRefused(err) {
			return Down, "connection refused on " + req.URL.Host
		}
		return Unhealthy, Brief(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return Healthy, fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return Unhealthy, fmt.Sprintf("HTTP %d from %s", resp.StatusCode, url)
}

// Postgres speaks the PostgreSQL wire protocol like pg_isready: a
// startup message answered by an authentication request, or by any error
// other than "starting up", means the server accepts connections.
func Postgres(ctx context.Context, addr, user, database string) (string, string) {
	conn, status, detail := dialCheck(ctx, addr)
	if conn == nil {
		return status, detail
	}
	defer conn.Close()
	if user == "" {
		user = "postgres"
	}
	if database == "" {
		database = user
	}
	var body []byte
	body = binary.BigEndian.AppendUint32(body, 196608) // protocol 3.0
	for _, s := range []string{"user", user, "database", database, "application_name", "devenv-health"} {
		body = append(append(body, s...), 0)
	}
	body = append(body, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	msg = append(msg, body...)
	if _, err := conn.Write(msg); err != nil {
		return Unhealthy, "not PostgreSQL: " + Brief(err)
	}
	r := bufio.NewReader(conn)
	kind, err := r.ReadByte()
	if err != nil {
		return Unhealthy, "not PostgreSQL: no reply to a startup message"
	}
	var length uint32
	if err := binary.Read(r, binary.BigEndian, &length); err != nil || length < 4 || length > 1<<20 {
		return Unhealthy, "not PostgreSQL: malformed reply"
	}
	payload := make([]byte, length-4)
	if _, err := io.ReadFull(r, payload); err != nil {
		return Unhealthy, "not PostgreSQL: short reply"
	}
	switch kind {
	case 'R':
		return Healthy, "accepting connections"
	case 'E':
		code, text := pgError(payload)
		if code == "57P03" {
			return Starting, "starting up: " + text
		}
		return Healthy, "accepting connections (" + text + ")"
	}
	return Unhealthy, fmt.Sprintf("not PostgreSQL: unexpected reply %q", kind)
}

func pgError(payload []byte) (code, text string) {
	for _, f := range strings.Split(string(payload), "\x00") {
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case 'C':
			code = f[1:]
		case 'M':
			text = f[1:]
		}
	}
	return code, text
}

// Redis sends PING; PONG (or a demand for AUTH) is healthy.
func Redis(ctx context.Context, addr string) (string, string) {
	conn, status, detail := dialCheck(ctx, addr)
	if conn == nil {
		return status, detail
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return Unhealthy, Brief(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return Unhealthy, "not Redis: no reply to PING"
	}
	line = strings.TrimSpace(line)
	switch {
	case line == "+PONG":
		return Healthy, "PONG"
	case strings.HasPrefix(line, "-NOAUTH"):
		return Healthy, "PONG needs AUTH"
	case strings.HasPrefix(line, "-LOADING"):
		return Starting, line[1:]
	}
	return Unhealthy, fmt.Sprintf("not Redis: replied %q", line)
}

// TCP connects to addr.
func TCP(ctx context.Context, addr string) (string, string) {
	conn, status, detail := dialCheck(ctx, addr)
	if conn == nil {
		return status, detail
	}
	conn.Close()
	return Healthy, "listening"
}

// dialCheck connects for a check; on failure conn is nil and status and
// detail say why (down: nothing listens).
func dialCheck(ctx context.Context, addr string) (conn net.Conn, status, detail string) {
	conn, err := dial(ctx, addr)
	if err == nil {
		return conn, "", ""
	}
	if isRefused(err) {
		return nil, Down, "connection refused on " + addr
	}
	return nil, Down, Brief(err)
}

func dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	}
	return conn, nil
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(err.Error(), "refused")
}

// Brief is err in a few words, for a health row.
func Brief(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 80 {
		return s[i+2:]
	}
	return s
}
