package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TokenHeader carries the per-user token on an action.
const TokenHeader = "X-Devenv-Token"

// Server is the dashboard over HTTP. Its fields are set before it serves.
type Server struct {
	Source Source
	// Hosts are the Host headers it answers (devenv.localhost with its
	// port, or the --listen address); any other is refused (DNS
	// rebinding).
	Hosts []string
	// Origin is the page's own origin (https://devenv.localhost); an
	// action from any other is refused (CSRF).
	Origin string
	// Token is the per-user secret: every request carries it (a browser
	// in its cookie, a script as Authorization: Bearer), an action also
	// in its header.
	Token string
	// CodeDir holds the one-time sign-in codes devenv ui makes.
	CodeDir string
	// ReadOnly serves no actions.
	ReadOnly bool
	// Log gets the server's own errors.
	Log *log.Logger

	hub     hub
	mu      sync.Mutex
	machine *Machine
	dirty   bool
	build   sync.Mutex
	actions int
	ctx     context.Context
	session string
	// viewers are the pages on the event stream; while there are any,
	// the source's changes are followed (stopWatch ends that).
	viewers   int
	stopWatch context.CancelFunc
	idle      *time.Timer
}

// Start keeps ctx for what outlives a request: actions, and following
// the source's changes while a page watches.
func (s *Server) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
}

// viewer counts a page that watches; the first starts following the
// source's changes (the engine's events, the registry, the samples).
func (s *Server) viewer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.viewers++
	if s.viewers > 1 || s.stopWatch != nil {
		if s.idle != nil {
			s.idle.Stop()
			s.idle = nil
		}
		return
	}
	base := s.ctx
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithCancel(base)
	s.stopWatch, s.dirty = cancel, true
	go s.watch(ctx)
}

// viewerLeft stops following the source a while after the last page left
// (a reload comes back at once).
func (s *Server) viewerLeft() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.viewers--
	if s.viewers > 0 || s.stopWatch == nil {
		return
	}
	s.idle = time.AfterFunc(30*time.Second, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.viewers == 0 && s.stopWatch != nil {
			s.stopWatch()
			s.stopWatch, s.idle = nil, nil
		}
	})
}

// watch marks the picture stale on each change and tells the pages,
// coalesced: a burst of engine events (die, stop, kill) is one push.
func (s *Server) watch(ctx context.Context) {
	changes := s.Source.Changes(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
		}
		settle := time.NewTimer(25 * time.Millisecond)
	drain:
		for {
			select {
			case <-changes:
			case <-settle.C:
				break drain
			case <-ctx.Done():
				settle.Stop()
				return
			}
		}
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		s.hub.publish(event{Name: "change", Data: strconv.FormatInt(time.Now().UnixMilli(), 10)})
	}
}

// current is the picture, taken again when something changed since.
func (s *Server) current() (*Machine, error) {
	s.build.Lock()
	defer s.build.Unlock()
	s.mu.Lock()
	// Unwatched, nothing says what changed: taken each time it is asked.
	m, dirty := s.machine, s.dirty || s.machine == nil || s.stopWatch == nil
	s.dirty = false
	s.mu.Unlock()
	if !dirty {
		return m, nil
	}
	// Taken for every page, not for the request that asked: a page that
	// goes away must not leave a picture cut short behind.
	s.mu.Lock()
	base := s.ctx
	s.mu.Unlock()
	if base == nil {
		base = context.Background()
	}
	bctx, cancel := context.WithTimeout(base, time.Minute)
	defer cancel()
	m, err := s.Source.Machine(bctx)
	if err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return nil, err
	}
	explainMoves(m.Ports)
	s.mu.Lock()
	s.machine = m
	s.mu.Unlock()
	return m, nil
}

// endpoint is one path and the methods it answers.
type endpoint struct {
	methods []string
	open    bool // answered without signing in (the sign-in, the assets)
	action  bool // a POST that changes something: token and Origin
	serve   func(s *Server, w http.ResponseWriter, r *http.Request)
}

// endpoints are every path the dashboard answers (docs/dashboard.md).
var endpoints = map[string]endpoint{
	"/":                 {methods: []string{"GET", "HEAD"}, serve: (*Server).page},
	"/login":            {methods: []string{"GET"}, open: true, serve: (*Server).login},
	"/whoami":           {methods: []string{"GET"}, open: true, serve: (*Server).whoami},
	"/assets/app.js":    {methods: []string{"GET", "HEAD"}, open: true, serve: (*Server).asset},
	"/assets/style.css": {methods: []string{"GET", "HEAD"}, open: true, serve: (*Server).asset},
	"/api/machine":      {methods: []string{"GET"}, serve: (*Server).apiMachine},
	"/api/ls":           {methods: []string{"GET"}, serve: (*Server).apiCLI},
	"/api/ps":           {methods: []string{"GET"}, serve: (*Server).apiCLI},
	"/api/ports":        {methods: []string{"GET"}, serve: (*Server).apiCLI},
	"/api/health":       {methods: []string{"GET"}, serve: (*Server).apiCLI},
	"/api/events":       {methods: []string{"GET"}, serve: (*Server).apiEvents},
	"/api/logs":         {methods: []string{"GET"}, serve: (*Server).apiLogs},
	"/api/actions":      {methods: []string{"POST"}, action: true, serve: (*Server).apiAction},
	"/api/connect-url":  {methods: []string{"POST"}, action: true, serve: (*Server).apiConnectURL},
}

// ServeHTTP guards every request, then serves it: a foreign Host is 403
// (whatever the path), a method the path does not answer 405, an action
// without the token or from another origin 403.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.ownHost(r.Host) {
		http.Error(w, "devenv ui answers only "+strings.Join(s.Hosts, " or "), http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("Cache-Control", "no-store")
	ep, ok := endpoints[r.URL.Path]
	if !ok {
		s.jsonError(w, http.StatusNotFound, "no such path: "+r.URL.Path)
		return
	}
	if !slices.Contains(ep.methods, r.Method) {
		h.Set("Allow", strings.Join(ep.methods, ", "))
		s.jsonError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s answers %s only", r.URL.Path, strings.Join(ep.methods, ", ")))
		return
	}
	if !ep.open && !s.signedIn(r) {
		s.refuse(w, r, "devenv ui signs this browser in: run devenv ui (or send Authorization: Bearer with the token from devenv's state directory)")
		return
	}
	if ep.action {
		if err := s.allowed(r); err != nil {
			s.jsonError(w, http.StatusForbidden, err.Error())
			return
		}
	}
	ep.serve(s, w, r)
}

// ownHost says whether host is one of the dashboard's own names.
func (s *Server) ownHost(host string) bool {
	return slices.ContainsFunc(s.Hosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// allowed checks an action: not read-only, devenv's own Origin, the token.
func (s *Server) allowed(r *http.Request) error {
	switch {
	case s.ReadOnly:
		return errors.New("this dashboard is read-only (devenv ui --read-only)")
	case r.Header.Get("Origin") != s.Origin:
		return fmt.Errorf("an action must come from %s", s.Origin)
	case !same(r.Header.Get(TokenHeader), s.actionKey()) && !same(r.Header.Get(TokenHeader), s.Token):
		return errors.New("an action needs the dashboard's token")
	}
	return nil
}

func (s *Server) jsonError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) apiMachine(w http.ResponseWriter, r *http.Request) {
	m, err := s.current()
	if err != nil {
		s.jsonError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// apiCLI answers /api/ls, /api/ps, /api/ports and /api/health with what
// the command of the same name prints with --format json.
func (s *Server) apiCLI(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/api/")
	query := map[string]string{}
	for k := range r.URL.Query() {
		query[k] = r.URL.Query().Get(k)
	}
	if (name == "ps" || name == "health") && query["project"] == "" {
		s.jsonError(w, http.StatusBadRequest, "/api/"+name+" needs ?project=NAME")
		return
	}
	v, err := s.Source.API(r.Context(), name, query)
	if err != nil {
		var nf *NotFoundError
		if errors.As(err, &nf) {
			s.jsonError(w, http.StatusNotFound, err.Error())
			return
		}
		s.jsonError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// NotFoundError is a project or service the dashboard does not know.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return "no such " + e.What }
