package orchestrator

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

// Probe results use the health command's statuses.
const (
	StatusHealthy   = "healthy"
	StatusUnhealthy = "unhealthy"
	StatusDown      = "down"
	StatusStarting  = "starting"
)

// CheckHTTP GETs url; 2xx is healthy.
func CheckHTTP(ctx context.Context, url string) (string, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return StatusUnhealthy, err.Error()
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		if isRefused(err) {
			return StatusDown, "connection refused on " + req.URL.Host
		}
		return StatusUnhealthy, shortErr(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return StatusHealthy, fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return StatusUnhealthy, fmt.Sprintf("HTTP %d from %s", resp.StatusCode, url)
}

// CheckPostgres speaks the PostgreSQL wire protocol like pg_isready: a
// startup message answered by an authentication request, or by any error
// other than "starting up", means the server accepts connections.
func CheckPostgres(ctx context.Context, addr, user, database string) (string, string) {
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
		return StatusUnhealthy, "not PostgreSQL: " + shortErr(err)
	}
	r := bufio.NewReader(conn)
	kind, err := r.ReadByte()
	if err != nil {
		return StatusUnhealthy, "not PostgreSQL: no reply to a startup message"
	}
	var length uint32
	if err := binary.Read(r, binary.BigEndian, &length); err != nil || length < 4 || length > 1<<20 {
		return StatusUnhealthy, "not PostgreSQL: malformed reply"
	}
	payload := make([]byte, length-4)
	if _, err := io.ReadFull(r, payload); err != nil {
		return StatusUnhealthy, "not PostgreSQL: short reply"
	}
	switch kind {
	case 'R':
		return StatusHealthy, "accepting connections"
	case 'E':
		code, text := pgError(payload)
		if code == "57P03" {
			return StatusStarting, "starting up: " + text
		}
		return StatusHealthy, "accepting connections (" + text + ")"
	}
	return StatusUnhealthy, fmt.Sprintf("not PostgreSQL: unexpected reply %q", kind)
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

// CheckRedis sends PING; PONG (or a demand for AUTH) is healthy.
func CheckRedis(ctx context.Context, addr string) (string, string) {
	conn, status, detail := dialCheck(ctx, addr)
	if conn == nil {
		return status, detail
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return StatusUnhealthy, shortErr(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return StatusUnhealthy, "not Redis: no reply to PING"
	}
	line = strings.TrimSpace(line)
	switch {
	case line == "+PONG":
		return StatusHealthy, "PONG"
	case strings.HasPrefix(line, "-NOAUTH"):
		return StatusHealthy, "PONG needs AUTH"
	case strings.HasPrefix(line, "-LOADING"):
		return StatusStarting, line[1:]
	}
	return StatusUnhealthy, fmt.Sprintf("not Redis: replied %q", line)
}

// CheckTCP connects to addr.
func CheckTCP(ctx context.Context, addr string) (string, string) {
	conn, status, detail := dialCheck(ctx, addr)
	if conn == nil {
		return status, detail
	}
	conn.Close()
	return StatusHealthy, "listening"
}

// dialCheck connects for a check; on failure conn is nil and status and
// detail say why (down: nothing listens).
func dialCheck(ctx context.Context, addr string) (conn net.Conn, status, detail string) {
	conn, err := dial(ctx, addr)
	if err == nil {
		return conn, "", ""
	}
	if isRefused(err) {
		return nil, StatusDown, "connection refused on " + addr
	}
	return nil, StatusDown, shortErr(err)
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

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 80 {
		return s[i+2:]
	}
	return s
}
