package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
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

// signedIn says whether r carries the token: the cookie of a browser that
// came with a code, or Authorization: Bearer TOKEN (scripts; the token
// file is readable by its user only).
func (s *Server) signedIn(r *http.Request) bool {
	got := ""
	if c, err := r.Cookie(cookieName); err == nil {
		got = c.Value
	}
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		got = v
	}
	return s.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) == 1
}

// login spends ?code= and signs the browser in: an HttpOnly, SameSite
// cookie with the token; then the page.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.CodeDir == "" || !useCode(s.CodeDir, r.URL.Query().Get("code")) {
		s.refuse(w, r, "this sign-in link was used already or is too old: run devenv ui again")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.Token, Path: "/", HttpOnly: true,
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
