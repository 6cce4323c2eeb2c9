package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// actionEvent is an action's progress on the event stream: its lines as
// they come, then its end with the CLI's exit code.
type actionEvent struct {
	ID      int    `json:"id"`
	Command string `json:"command"`
	Line    string `json:"line,omitempty"`
	Done    bool   `json:"done,omitempty"`
	Code    int    `json:"code"`
	Error   string `json:"error,omitempty"`
}

// Command is the CLI command line an action runs.
func (a Action) Command() string {
	parts := []string{"devenv", "-p", a.Project, a.Verb}
	if a.Verb == "up" {
		parts = append(parts, "--detach")
	}
	if a.Service != "" {
		parts = append(parts, a.Service)
	}
	if a.Engine != "" {
		parts = append(parts, "(on "+a.Engine+")")
	}
	return strings.Join(parts, " ")
}

func (s *Server) readAction(w http.ResponseWriter, r *http.Request) (Action, bool) {
	var a Action
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		s.jsonError(w, http.StatusBadRequest, "the body must be JSON: {\"project\": NAME, \"service\": NAME, \"action\": VERB}")
		return a, false
	}
	m, err := s.current()
	if err != nil {
		s.jsonError(w, http.StatusServiceUnavailable, err.Error())
		return a, false
	}
	if err := m.check(a); err != nil {
		s.jsonError(w, http.StatusNotFound, err.Error())
		return a, false
	}
	return a, true
}

// apiAction starts an action and answers at once (202) with its ID; its
// output comes on /api/events.
func (s *Server) apiAction(w http.ResponseWriter, r *http.Request) {
	a, ok := s.readAction(w, r)
	if !ok {
		return
	}
	verbs := projectVerbs
	if a.Service != "" {
		verbs = serviceVerbs
	}
	if !slices.Contains(verbs, a.Verb) {
		s.jsonError(w, http.StatusBadRequest, fmt.Sprintf("action %q: use one of %s", a.Verb, strings.Join(verbs, ", ")))
		return
	}
	s.mu.Lock()
	s.actions++
	id, ctx := s.actions, s.ctx
	s.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	cmd := a.Command()
	// An action runs to its end: neither the page leaving nor the server
	// stopping cuts an up or a down short.
	ctx = context.WithoutCancel(ctx)
	go func() {
		code, err := s.Source.Run(ctx, a, func(line string) {
			s.publishAction(actionEvent{ID: id, Command: cmd, Line: line})
		})
		ev := actionEvent{ID: id, Command: cmd, Done: true, Code: code}
		if err != nil {
			ev.Error = err.Error()
		}
		s.publishAction(ev)
	}()
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "command": cmd})
}

func (s *Server) publishAction(ev actionEvent) {
	b, _ := json.Marshal(ev)
	s.hub.publish(event{Name: "action", Data: string(b)})
}

// apiConnectURL is connect --url of a service: a POST with the token,
// since the URL carries the service's password.
func (s *Server) apiConnectURL(w http.ResponseWriter, r *http.Request) {
	a, ok := s.readAction(w, r)
	if !ok {
		return
	}
	if a.Service == "" {
		s.jsonError(w, http.StatusBadRequest, "connect-url needs a service")
		return
	}
	url, err := s.Source.ConnectURL(r.Context(), a)
	if err != nil {
		s.jsonError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": url})
}
