package dashboard

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

var pageTmpl = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"since":   since,
	"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"verbs":   func() []string { return projectVerbs },
	"sverbs":  func() []string { return serviceVerbs },
	"join":    strings.Join,
	"portURL": portURL,
}).ParseFS(assets, "assets/page.html"))

// view is what the page's template gets.
type view struct {
	*Machine
	Err      string
	ReadOnly bool
	Token    string
	// Logs, Filter and Errors are the log view the URL asks for.
	Logs, Filter string
	Errors       bool
}

// Services counts the services on the page.
func (v view) Services() int {
	n := 0
	for _, p := range v.Projects {
		n += len(p.Services)
	}
	return n
}

// page is the dashboard: the whole page, or with ?fragment=machine only
// the part a change replaces.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	v := view{ReadOnly: s.ReadOnly, Logs: r.URL.Query().Get("logs"), Filter: r.URL.Query().Get("filter"), Errors: r.URL.Query().Get("errors") == "1"}
	if !s.ReadOnly {
		v.Token = s.actionKey()
	}
	m, err := s.current()
	if err != nil {
		v.Err = err.Error()
		m = &Machine{}
	}
	v.Machine = m
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	name := "page.html"
	if r.URL.Query().Get("fragment") == "machine" {
		name = "machine"
	}
	if err := pageTmpl.ExecuteTemplate(w, name, v); err != nil && s.Log != nil {
		s.Log.Printf("dashboard: render: %v", err)
	}
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/" + path.Base(r.URL.Path))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(r.URL.Path, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(b)
}

// portURL is the address a published TCP port answers at here
// ("127.0.0.1:5434->5432/tcp" is http://127.0.0.1:5434), "" for another.
func portURL(binding string) string {
	host, rest, ok := strings.Cut(binding, "->")
	if !ok || !strings.HasSuffix(rest, "/tcp") || strings.Contains(host, "-") {
		return ""
	}
	if strings.HasPrefix(host, "0.0.0.0:") {
		host = "127.0.0.1:" + strings.TrimPrefix(host, "0.0.0.0:")
	}
	return "http://" + host + "/"
}

// since is an uptime as ps says it: "3 minutes", "2 hours".
func since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
