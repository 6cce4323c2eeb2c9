package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/internal/errdefs"

	"github.com/gofrs/flock"
)

// Store is the registry file on disk.
type Store struct {
	Path string
	// How says how Path was chosen, for doctor and error messages.
	How         string
	LockTimeout time.Duration
}

// Locate picks the registry path: flag, DEVENV_REGISTRY, XDG_CONFIG_HOME, home.
func Locate(flag string, getenv func(string) string) (*Store, error) {
	s := &Store{LockTimeout: 10 * time.Second}
	switch {
	case flag != "":
		s.Path, s.How = flag, "--registry"
	case getenv("DEVENV_REGISTRY") != "":
		s.Path, s.How = getenv("DEVENV_REGISTRY"), "DEVENV_REGISTRY"
	case getenv("XDG_CONFIG_HOME") != "":
		s.Path, s.How = filepath.Join(getenv("XDG_CONFIG_HOME"), "devenv", "registry.yaml"), "XDG_CONFIG_HOME"
	default:
		home := getenv("HOME")
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("locate registry: no home directory; set DEVENV_REGISTRY")
			}
			home = h
		}
		s.Path, s.How = filepath.Join(home, ".config", "devenv", "registry.yaml"), "default location"
	}
	abs, err := filepath.Abs(s.Path)
	if err != nil {
		return nil, err
	}
	s.Path = abs
	return s, nil
}

// ParseError is a registry file that cannot be read; it is never written.
type ParseError struct {
	File string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("registry %s, line %d: %v (fix or move the file; devenv will not overwrite it)", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("registry %s: %v (fix or move the file; devenv will not overwrite it)", e.File, e.Err)
}

func (e *ParseError) Unwrap() []error { return []error{e.Err, errdefs.ErrInvalid} }

// UnsafeError is a registry file devenv refuses to write: a symlink, another
// user's file, or one others can write.
type UnsafeError struct {
	File, Reason string
}

func (e *UnsafeError) Error() string { return fmt.Sprintf("registry %s %s", e.File, e.Reason) }

func (e *UnsafeError) Unwrap() error { return errdefs.ErrInvalid }

// LockError is a lock that stayed held past the timeout.
type LockError struct {
	File string
	PID  int
	Wait time.Duration
}

func (e *LockError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = "process " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("registry %s is locked by %s; gave up after %s (if that process is stuck, stop it)", e.File, holder, e.Wait)
}

// Load reads the registry; a missing file is an empty registry.
func (s *Store) Load() (*Registry, error) {
	data, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		// Unreadable is a setup problem the user fixes (permissions, a
		// directory in the way), like an unsafe file: exit 2.
		return nil, &UnsafeError{File: s.Path, Reason: fmt.Sprintf("cannot be read (%v); fix its permissions or move it", errors.Unwrap(err))}
	}
	return Decode(s.Path, data)
}

// Update runs change on the registry under an exclusive lock, re-reading the
// file inside the lock, and replaces the file atomically when change reports
// a modification. The file is never written when it does not parse.
func (s *Store) Update(ctx context.Context, change func(*Registry) (bool, error)) (*Registry, error) {
	dir := filepath.Dir(s.Path)
	if err := ensurePrivateDir(dir); err != nil {
		return nil, err
	}
	if err := checkWritable(s.Path); err != nil {
		return nil, err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Under the lock, a temporary file can only be left by a writer that
	// died mid-write.
	if stale, _ := filepath.Glob(filepath.Join(dir, "."+filepath.Base(s.Path)+".tmp-*")); len(stale) > 0 {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	reg, err := s.Load()
	if err != nil {
		return nil, err
	}
	changed, err := change(reg)
	if err != nil {
		return nil, err
	}
	if !changed {
		return reg, nil
	}
	data, err := Encode(reg)
	if err != nil {
		return nil, fmt.Errorf("encode registry: %w", err)
	}
	if err := WriteFileAtomic(s.Path, data, 0o600); err != nil {
		return nil, fmt.Errorf("write registry %s: %w", s.Path, err)
	}
	return reg, nil
}

func (s *Store) lock(ctx context.Context) (func(), error) {
	lockPath := s.Path + ".lock"
	if st, err := os.Lstat(lockPath); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("registry lock %s is a symlink; refusing to use it", lockPath)
	}
	fl := flock.New(lockPath, flock.SetPermissions(0o600))
	timeout := s.LockTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := fl.TryLockContext(lctx, 20*time.Millisecond)
	if !ok {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		pid := 0
		if b, rerr := os.ReadFile(lockPath); rerr == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("lock registry %s: %w", lockPath, err)
		}
		return nil, &LockError{File: s.Path, PID: pid, Wait: timeout}
	}
	writePID(lockPath)
	return func() { _ = fl.Unlock() }, nil
}
