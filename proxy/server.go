package proxy

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// DashboardHost is devenv ui's name: the proxy serves the dashboard
// there, whatever a project's names are.
const DashboardHost = compose.DashboardName

// hopHeader records the names a request went through this proxy for
// ("ID host,host"): one that comes back for a name it already went to
// loops, and gets 508 instead of going round again. A service that calls
// another's name (a dev server proxying /api) is a chain, not a loop.
const hopHeader = "Devenv-Proxy-Hop"

// maxHops bounds a chain of names, for loops through headers a backend
// rewrites.
const maxHops = 10

// hops are the names r went through this proxy for already.
func (s *Server) hops(r *http.Request) []string {
	id, chain, ok := strings.Cut(r.Header.Get(hopHeader), " ")
	if !ok || id != s.id || chain == "" {
		return nil
	}
	return strings.Split(chain, ",")
}

// Server is the reverse proxy: HTTPS for every routed name, and a plain
// HTTP side that redirects to it.
type Server struct {
	CA     *CA
	Routes func() *Table
	// HTTPSPort is where the HTTPS side listens; redirects and pages
	// carry it unless it is 443.
	HTTPSPort int
	// Down describes a service whose port does not answer: its state and,
	// for a host service, its last log lines. Nil says nothing more.
	Down func(Route) (state, logTail string)
	// ErrorLog gets the proxy's own errors (the supervisor's log).
	ErrorLog *log.Logger
	// OwnPorts are the proxy's own ports: a route to one of them loops.
	OwnPorts []int
	// Dashboard serves devenv.localhost (devenv ui), before any route.
	Dashboard http.Handler

	id    string
	proxy *httputil.ReverseProxy
}

type routeKey struct{}

// NewServer makes a server; its fields may be set before it serves.
func NewServer(ca *CA, routes func() *Table, httpsPort int) *Server {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	s := &Server{CA: ca, Routes: routes, HTTPSPort: httpsPort, id: hex.EncodeToString(b)}
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
	}
	s.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			rt := pr.In.Context().Value(routeKey{}).(Route)
			pr.SetURL(&url.URL{Scheme: "http", Host: net.JoinHostPort(rt.Addr, strconv.Itoa(rt.Port))})
			pr.Out.Host = pr.In.Host // the name, as the browser sent it
			pr.SetXForwarded()
			pr.Out.Header.Set(hopHeader, s.id+" "+strings.Join(append(s.hops(pr.In), rt.Host), ","))
		},
		Transport: transport,
		// Server-sent events, long polls and downloads go through as they
		// come; WebSocket upgrades are spliced with no idle timeout.
		FlushInterval: -1,
		ErrorHandler:  s.badGateway,
	}
	return s
}

// ServeHTTP routes by Host. A Host that matches no route is never proxied
// anywhere: it gets the page of live names (404).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Dashboard != nil && hostOnly(r.Host) == DashboardHost {
		s.Dashboard.ServeHTTP(w, r)
		return
	}
	rt, ok := s.Routes().Lookup(r.Host)
	hops := s.hops(r)
	if (ok && slices.Contains(hops, rt.Host)) || len(hops) >= maxHops || (ok && slices.Contains(s.OwnPorts, rt.Port)) {
		s.page(w, http.StatusLoopDetected, "Loop detected", "This request came back to devenv's proxy: the service behind "+hostOnly(r.Host)+" sends it to its own name.", nil, "")
		return
	}
	if !ok {
		s.notFound(w, r)
		return
	}
	s.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, rt)))
}

// notFound is the page of a name devenv does not serve: the live names,
// for a name under .localhost only (a page reached by another name, DNS
// rebinding, learns nothing).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	host := hostOnly(r.Host)
	var names []string
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		names = s.Routes().Hosts()
	}
	s.page(w, http.StatusNotFound, "No such name", "devenv has no service named "+host+".", names, "")
}

// badGateway is the page of a name whose service does not answer.
func (s *Server) badGateway(w http.ResponseWriter, r *http.Request, err error) {
	rt := r.Context().Value(routeKey{}).(Route)
	if errors.Is(r.Context().Err(), context.Canceled) {
		return // the client left
	}
	state, tail := "not answering", ""
	if s.Down != nil {
		if st, t := s.Down(rt); st != "" {
			state, tail = st, t
		}
	}
	kind := "container"
	if rt.HostService {
		kind = "host service"
	}
	msg := fmt.Sprintf("%s %s of project %s (port %d) is %s.", kind, rt.Service, rt.Project, rt.Port, state)
	if s.ErrorLog != nil {
		s.ErrorLog.Printf("%s: %s: %v", rt.Host, msg, err)
	}
	s.page(w, http.StatusBadGateway, "Service unavailable", msg+" devenv up (or devenv start "+rt.Service+") brings it back.", nil, tail)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="color-scheme" content="light dark"><title>{{.Title}} · devenv</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44em;margin:3em auto;padding:0 1em}pre{overflow:auto;padding:1em;background:#8881}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Msg}}</p>
{{if .Names}}<h2>Names devenv serves</h2><ul>{{range .Names}}<li><a href="{{.URL}}">{{.URL}}</a></li>{{end}}</ul>
{{else if eq .Code 404}}<p>No project has names now: <code>devenv up</code> gives them.</p>{{end}}
{{if .Tail}}<h2>Last log lines</h2><pre>{{.Tail}}</pre>{{end}}
<p><small>devenv proxy · {{.Code}}</small></p></body></html>
`))

type link struct{ URL string }

func (s *Server) page(w http.ResponseWriter, code int, title, msg string, hosts []string, tail string) {
	var names []link
	for _, h := range hosts {
		names = append(names, link{URL: URL(h, s.HTTPSPort)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = pageTmpl.Execute(w, struct {
		Title, Msg, Tail string
		Names            []link
		Code             int
	}{title, msg, tail, names, code})
}

// URL is the https URL of a name served on port (no port when it is 443).
func URL(host string, port int) string { return registry.NameURL(host, port) }

// Redirect is the plain HTTP side: every request goes to the same host and
// path over HTTPS (308, so methods and bodies are kept).
func (s *Server) Redirect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostOnly(r.Host)
		if !compose.ValidLocalhostName(host) && host != "localhost" {
			s.notFound(w, r)
			return
		}
		http.Redirect(w, r, URL(host, s.HTTPSPort)+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// TLSConfig serves each name under .localhost its own certificate, over
// HTTP/2 or HTTP/1.1.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
			if name != "localhost" && !compose.ValidLocalhostName(name) {
				return nil, fmt.Errorf("no certificate for %q: devenv serves names under .localhost", hello.ServerName)
			}
			return s.CA.Leaf(name)
		},
	}
}

// Serve serves HTTPS on httpsLns and the redirect on httpLns until ctx
// ends, then closes them; it returns the first listener's error.
func (s *Server) Serve(ctx context.Context, httpsLns, httpLns []net.Listener) error {
	secure := &http.Server{Handler: s, TLSConfig: s.TLSConfig(), ErrorLog: s.ErrorLog,
		ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 5 * time.Minute}
	plain := &http.Server{Handler: s.Redirect(), ErrorLog: s.ErrorLog, ReadHeaderTimeout: 30 * time.Second}
	errs := make(chan error, len(httpsLns)+len(httpLns))
	for _, ln := range httpsLns {
		go func() { errs <- secure.ServeTLS(ln, "", "") }()
	}
	for _, ln := range httpLns {
		go func() { errs <- plain.Serve(ln) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = secure.Shutdown(shut)
	_ = plain.Shutdown(shut)
	return err
}

// Listen opens port on 127.0.0.1 and, where the system has IPv6, on ::1:
// loopback only.
func Listen(port int) ([]net.Listener, error) {
	v4, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	lns := []net.Listener{v4}
	if port == 0 {
		port = v4.Addr().(*net.TCPAddr).Port
	}
	v6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port)))
	switch {
	case err == nil:
		lns = append(lns, v6)
	case errors.Is(err, syscall.EADDRINUSE):
		// Browsers that try ::1 first would reach whoever holds it.
		v4.Close()
		return nil, fmt.Errorf("[::1]:%d is held by another process: %w", port, err)
	}
	return lns, nil
}
