// Command testserver is a small configurable server for devenv's
// real-engine tests, built FROM scratch. Configured by environment:
//
//	LISTEN          comma-separated ports to serve HTTP on (default 8080)
//	START_DELAY     wait this long before listening (slow start)
//	EXIT_CODE       print a line and exit with this code at once
//	IGNORE_SIGTERM  keep running on SIGTERM (only SIGKILL stops it)
//	UNHEALTHY       /healthz always answers 500
//	DATA_DIR        directory for /write and /read (a volume)
//	MODE=electric   answer Electric's /v1/shape and /v1/health, checking
//	                that DATABASE_URL's host accepts TCP connections
//
// `testserver health URL` exits 0 when URL answers 2xx: the healthcheck.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "health" {
		os.Exit(health(os.Args[2]))
	}
	if code := os.Getenv("EXIT_CODE"); code != "" {
		n, _ := strconv.Atoi(code)
		fmt.Println("testserver: exiting at once with code", n)
		os.Exit(n)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if d, err := time.ParseDuration(os.Getenv("START_DELAY")); err == nil {
		fmt.Println("testserver: slow start", d)
		select {
		case <-time.After(d):
		case sig := <-sigs:
			if sig == syscall.SIGTERM && os.Getenv("IGNORE_SIGTERM") != "" {
				time.Sleep(d)
			} else {
				fmt.Println("testserver: stopping on", sig)
				return
			}
		}
	}
	ports := os.Getenv("LISTEN")
	if ports == "" {
		ports = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "testserver ok") })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("UNHEALTHY") != "" {
			http.Error(w, "unhealthy on purpose", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		p := filepath.Join(dataDir(), filepath.Base(r.URL.Query().Get("name")))
		if err := os.WriteFile(p, []byte(r.URL.Query().Get("content")), 0o644); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "written", p)
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(filepath.Join(dataDir(), filepath.Base(r.URL.Query().Get("name"))))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Write(b)
	})
	mux.HandleFunc("/v1/health", electric)
	mux.HandleFunc("/v1/shape", electric)
	for _, p := range strings.Split(ports, ",") {
		ln, err := net.Listen("tcp", ":"+strings.TrimSpace(p))
		if err != nil {
			fmt.Fprintln(os.Stderr, "testserver:", err)
			os.Exit(2)
		}
		go http.Serve(ln, mux)
		fmt.Println("testserver: listening on", p)
	}
	for sig := range sigs {
		if sig == syscall.SIGTERM && os.Getenv("IGNORE_SIGTERM") != "" {
			fmt.Println("testserver: ignoring SIGTERM")
			continue
		}
		fmt.Println("testserver: stopping on", sig)
		return
	}
}

func dataDir() string {
	if d := os.Getenv("DATA_DIR"); d != "" {
		return d
	}
	return "/data"
}

// electric stands in for ElectricSQL's HTTP API: healthy once the database
// in DATABASE_URL accepts connections.
func electric(w http.ResponseWriter, r *http.Request) {
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		u, err := url.Parse(dsn)
		if err != nil {
			http.Error(w, "bad DATABASE_URL", http.StatusInternalServerError)
			return
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "5432")
		}
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			http.Error(w, `{"status":"waiting"}`, http.StatusServiceUnavailable)
			return
		}
		c.Close()
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/health" {
		fmt.Fprintln(w, `{"status":"active"}`)
		return
	}
	if r.URL.Query().Get("table") == "" {
		http.Error(w, `{"message":"table is required"}`, http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, `[]`)
}

func health(u string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println("unhealthy:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		fmt.Println("unhealthy: HTTP", resp.StatusCode)
		return 1
	}
	return 0
}
