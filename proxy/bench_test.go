package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkProxy times one backend three ways in the same run: directly,
// through devenv's proxy and through Caddy's reverse_proxy (when caddy is
// installed, with its internal TLS): small GETs on kept-alive connections
// (with p50 and p99 latency) and a 100 MiB download. Both proxies speak
// TLS and HTTP/1.1 to the client; scripts/bench-proxy prints the ratios.
func BenchmarkProxy(b *testing.B) {
	chunk := make([]byte, 1<<20)
	port, _ := backend(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/big" {
			io.WriteString(w, "hello, world\n")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(100<<20))
		for range 100 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	targets := []struct{ name, url string }{{"direct", "http://127.0.0.1:" + strconv.Itoa(port)}}
	pb := newBench(b)
	pb.writeRegistry(map[string]int{"web.shop.localhost": port})
	targets = append(targets, struct{ name, url string }{"devenv", "https://web.shop.localhost:" + strconv.Itoa(pb.httpsPort)})
	if caddy, err := exec.LookPath("caddy"); err == nil {
		targets = append(targets, struct{ name, url string }{"caddy", startCaddy(b, caddy, port)})
	} else {
		b.Log("caddy is not installed: no comparison (apt install caddy)")
	}
	for _, tg := range targets {
		u := tg.url
		host := u[len("https://"):]
		c := &http.Client{Transport: &http.Transport{
			// Every name to the right port on 127.0.0.1; HTTP/1.1 for all.
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if tg.name == "direct" {
					return (&net.Dialer{}).DialContext(ctx, network, addr)
				}
				_, p, _ := net.SplitHostPort(host)
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+p)
			},
			TLSClientConfig:     &tls.Config{RootCAs: pb.ca.Pool(), InsecureSkipVerify: tg.name == "caddy"},
			TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
			MaxIdleConnsPerHost: 16,
		}}
		get := func(path string) {
			resp, err := c.Get(u + path)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("%s%s: %d", u, path, resp.StatusCode)
			}
		}
		get("/") // connect and handshake before the clock starts
		b.Run(tg.name+"/small", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				get("/")
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
		b.Run(tg.name+"/100MiB", func(b *testing.B) {
			b.SetBytes(100 << 20)
			for b.Loop() {
				get("/big")
			}
		})
	}
}

// startCaddy runs Caddy's reverse_proxy to the backend on a free port with
// its own internal CA, in a directory of its own; its URL is returned.
func startCaddy(b *testing.B, caddy string, backendPort int) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := b.TempDir()
	conf := fmt.Sprintf(`{
	admin off
	auto_https disable_redirects
	skip_install_trust
	storage file_system %s
}
https://web.shop.localhost:%d {
	bind 127.0.0.1
	tls internal
	log {
		output discard
	}
	reverse_proxy 127.0.0.1:%d
}
`, filepath.Join(dir, "data"), port, backendPort)
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(caddy, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{ServerName: "web.shop.localhost", InsecureSkipVerify: true})
		if err == nil {
			conn.Close()
			return "https://web.shop.localhost:" + strconv.Itoa(port)
		}
	}
	b.Fatal("caddy did not come up")
	return ""
}
