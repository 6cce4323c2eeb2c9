package dashboard

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadToken is the per-user token actions carry, kept in dir/token (0600,
// dir 0700): made once, read by every dashboard server of this user. A
// symlink is never followed, written or read.
func LoadToken(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("dashboard token: %w", err)
	}
	if st, err := os.Lstat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("dashboard token: %s is not a directory", dir)
	}
	path := filepath.Join(dir, "token")
	for range 2 {
		if tok, err := readToken(path); err == nil {
			return tok, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // another server made it first: read theirs
		}
		if err != nil {
			return "", fmt.Errorf("dashboard token: %w", err)
		}
		tok := hex.EncodeToString(b)
		_, werr := f.WriteString(tok + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fmt.Errorf("dashboard token %s: %w", path, werr)
		}
		return tok, nil
	}
	return "", fmt.Errorf("dashboard token %s: could not be read or made", path)
}

func readToken(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		if isLoop(err) {
			return "", fmt.Errorf("dashboard token %s is a symlink: devenv does not follow it", path)
		}
		return "", err
	}
	defer f.Close()
	b := make([]byte, 256)
	n, _ := f.Read(b)
	tok := strings.TrimSpace(string(b[:n]))
	if len(tok) < 32 {
		return "", fmt.Errorf("dashboard token %s is too short: remove it and devenv makes a new one", path)
	}
	return tok, nil
}
