package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// cookieName carries the token in the browser devenv ui opened.
const cookieName = "devenv_ui"

// codeTTL is how long a sign-in code lasts.
const codeTTL = 2 * time.Minute

var codeRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// IssueCode makes a one-time sign-in code for the next page devenv ui
// opens (a file in dir/codes, 0600): the URL holds the code, never the
// token, and the code is gone once used or after two minutes.
func IssueCode(dir string) (string, error) {
	codes := filepath.Join(dir, "codes")
	if err := os.MkdirAll(codes, 0o700); err != nil {
		return "", fmt.Errorf("dashboard sign-in: %w", err)
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	code := hex.EncodeToString(b)
	f, err := os.OpenFile(filepath.Join(codes, code), os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		return "", fmt.Errorf("dashboard sign-in: %w", err)
	}
	f.Close()
	// Old codes nobody used go.
	entries, _ := os.ReadDir(codes)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > codeTTL {
			os.Remove(filepath.Join(codes, e.Name()))
		}
	}
	return code, nil
}

// useCode spends a sign-in code: true once, for a code made in the last
// two minutes.
func useCode(dir, code string) bool {
	if !codeRE.MatchString(code) {
		return false
	}
	path := filepath.Join(dir, "codes", code)
	info, err := os.Lstat(path)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	// Removing it is spending it: of two at once, one wins.
	if err := os.Remove(path); err != nil {
		return false
	}
	return time.Since(info.ModTime()) <= codeTTL
}

// signedIn says whether r is signed in: the cookie of a browser that came
// with a code (this server's own session, never the token: on plain http a
// browser sends a host's cookies to all its ports), or Authorization:
// Bearer TOKEN (scripts; the token file is readable by its user only).
func (s *Server) signedIn(r *http.Request) bool {
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return same(v, s.Token)
	}
	c, err := r.Cookie(cookieName)
	return err == nil && same(c.Value, s.sessionID())
}

// same compares two secrets in constant time; an empty one is never a
// match.
func same(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sessionID is this server's sign-in session, made on first use: it dies
// with the server.
func (s *Server) sessionID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session == "" && s.Token != "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		s.session = hex.EncodeToString(b)
	}
	return s.session
}

// Derive is a value made from the token for one purpose (HMAC-SHA256): it
// proves the token without being it.
func Derive(token, purpose string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(purpose))
	return hex.EncodeToString(m.Sum(nil))
}

// actionKey is what the page sends in X-Devenv-Token: made from the token,
// good for actions only, never for signing in.
func (s *Server) actionKey() string { return Derive(s.Token, "action") }

// whoami proves this server has the user's token (an HMAC of the caller's
// nonce), so devenv ui hands a sign-in code only to devenv's own server.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	nonce := r.URL.Query().Get("nonce")
	if len(nonce) < 16 || len(nonce) > 128 {
		s.jsonError(w, http.StatusBadRequest, "whoami needs ?nonce= of 16 to 128 characters")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"proof": Derive(s.Token, "whoami:"+nonce)})
}

// login spends ?code= and signs the browser in: an HttpOnly, SameSite
// cookie with the token; then the page.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.CodeDir == "" || !useCode(s.CodeDir, r.URL.Query().Get("code")) {
		s.refuse(w, r, "this sign-in link was used already or is too old: run devenv ui again")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.sessionID(), Path: "/", HttpOnly: true,
		Secure: strings.HasPrefix(s.Origin, "https://"), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// refuse answers 403: a page for a browser, JSON for /api/.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.jsonError(w, http.StatusForbidden, msg)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_ = pageTmpl.ExecuteTemplate(w, "refused", msg)
}

// SignInPage writes a page that sends the browser to link (a sign-in
// link), readable by its user only, for devenv ui to open by its path;
// pages older than the codes they hold go.
func SignInPage(dir, link string) (string, error) {
	pages := filepath.Join(dir, "open")
	if err := os.MkdirAll(pages, 0o700); err != nil {
		return "", fmt.Errorf("dashboard sign-in: %w", err)
	}
	entries, _ := os.ReadDir(pages)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > codeTTL {
			os.Remove(filepath.Join(pages, e.Name()))
		}
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	path := filepath.Join(pages, hex.EncodeToString(b)+".html")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		return "", fmt.Errorf("dashboard sign-in: %w", err)
	}
	err = signInTmpl.Execute(f, link)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}

var signInTmpl = template.Must(template.New("open").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={{.}}"><title>devenv ui</title></head>
<body><p><a href="{{.}}">Open devenv ui</a></p></body></html>
`))
