package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// event is one server-sent event; ID numbers it, so a page that
// reconnects (Last-Event-ID) gets what it missed.
type event struct {
	ID         int64
	Name, Data string
}

// backlog is how many recent events a reconnecting page can get again.
const backlog = 256

// hub fans events out to the pages listening, and keeps the last ones.
type hub struct {
	mu     sync.Mutex
	subs   map[chan event]bool
	seq    int64
	recent []event
}

// subscribe adds a page; after is the last event it saw (0: none), and
// missed are the kept events after it.
func (h *hub) subscribe(after int64) (ch chan event, missed []event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[chan event]bool{}
	}
	ch = make(chan event, 64)
	h.subs[ch] = true
	if after > 0 {
		for _, ev := range h.recent {
			if ev.ID > after {
				missed = append(missed, ev)
			}
		}
	}
	return ch, missed
}

func (h *hub) unsubscribe(ch chan event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[ch] {
		delete(h.subs, ch)
	}
}

// publish numbers ev and sends it to every page; a page too slow to take
// it is cut off, and gets it again when it reconnects (Last-Event-ID).
func (h *hub) publish(ev event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ev.ID = h.seq
	h.recent = append(h.recent, ev)
	if len(h.recent) > backlog {
		h.recent = h.recent[len(h.recent)-backlog:]
	}
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
			close(ch)
			delete(h.subs, ch)
		}
	}
}

// stream starts a server-sent event stream; send writes one event.
func stream(w http.ResponseWriter) (send func(event) error, ok bool) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return nil, false
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	return func(ev event) error {
		var b strings.Builder
		if ev.ID > 0 {
			fmt.Fprintf(&b, "id: %d\n", ev.ID)
		}
		if ev.Name != "" {
			fmt.Fprintf(&b, "event: %s\n", ev.Name)
		}
		for _, line := range strings.Split(ev.Data, "\n") {
			fmt.Fprintf(&b, "data: %s\n", line)
		}
		b.WriteString("\n")
		if _, err := w.Write([]byte(b.String())); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}, true
}

// apiEvents is the page's one stream: "change" when the picture changed,
// "action" with an action's output and its end.
func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	ch, missed := s.hub.subscribe(after)
	defer s.hub.unsubscribe(ch)
	s.viewer()
	defer s.viewerLeft()
	send, ok := stream(w)
	if !ok {
		return
	}
	// A dropped connection is taken up again at once (the browser's own
	// wait is 3 s), and what it missed is sent again.
	if _, err := w.Write([]byte("retry: 250\n\n")); err != nil {
		return
	}
	if send(event{Name: "hello", Data: strconv.FormatBool(s.ReadOnly)}) != nil {
		return
	}
	for _, ev := range missed {
		if send(ev) != nil {
			return
		}
	}
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok || send(ev) != nil {
				return // cut off as too slow: the page reconnects
			}
		case <-beat.C:
			if _, err := w.Write([]byte(": still here\n\n")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

// apiLogs streams log lines as "lines" events, each a JSON array, sent at
// most every 50 ms so a chatty service is a few events a second.
func (s *Server) apiLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	of := Action{Project: q.Get("project"), Engine: q.Get("engine"), Service: q.Get("service")}
	if of.Project == "" {
		s.jsonError(w, http.StatusBadRequest, "/api/logs needs ?project=NAME (and service=NAME for one service)")
		return
	}
	tail := 500
	if t := q.Get("tail"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			s.jsonError(w, http.StatusBadRequest, "tail must be a number of lines")
			return
		}
		tail = n
	}
	m, err := s.current()
	if err != nil {
		s.jsonError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if err := m.check(of); err != nil {
		s.jsonError(w, http.StatusNotFound, err.Error())
		return
	}
	send, ok := stream(w)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var mu sync.Mutex
	var pending []string
	done := make(chan error, 1)
	go func() {
		done <- s.Source.Logs(ctx, of, tail, func(line string) {
			mu.Lock()
			// A page that does not read keeps the newest lines only.
			if len(pending) >= maxPending {
				pending = pending[len(pending)-maxPending/2:]
			}
			pending = append(pending, line)
			mu.Unlock()
		})
	}()
	flush := func() error {
		mu.Lock()
		lines := pending
		pending = nil
		mu.Unlock()
		if len(lines) == 0 {
			return nil
		}
		b, _ := json.Marshal(lines)
		return send(event{Name: "lines", Data: string(b)})
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-done:
			_ = flush()
			msg := "the log ended"
			if err != nil && ctx.Err() == nil {
				msg = err.Error()
			}
			_ = send(event{Name: "end", Data: msg})
			return
		case <-tick.C:
			if flush() != nil {
				return
			}
		}
	}
}

// maxPending bounds the log lines kept for a page between two sends.
const maxPending = 10000

// check says whether the picture has the project on its engine (and the
// service).
func (m *Machine) check(of Action) error {
	i := slices.IndexFunc(m.Projects, func(p Project) bool { return p.Name == of.Project && p.Engine == of.Engine })
	if i < 0 {
		return &NotFoundError{What: "project " + of.Project}
	}
	if of.Service != "" && !slices.ContainsFunc(m.Projects[i].Services, func(s Service) bool { return s.Name == of.Service }) {
		return &NotFoundError{What: "service " + of.Service + " in project " + of.Project}
	}
	return nil
}
