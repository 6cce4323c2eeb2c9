package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/internal/errdefs"

	"github.com/gofrs/flock"
	"go.yaml.in/yaml/v3"
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

var lineRe = regexp.MustCompile(`line (\d+)`)

// Decode parses registry bytes; file names the source in errors. devenv
// writes the file in JSON syntax (which is YAML) because it decodes an order
// of magnitude faster; a file rewritten by hand in block YAML is read too.
func Decode(file string, data []byte) (*Registry, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &ParseError{File: file, Err: errors.New("file is empty")}
	}
	if trimmed[0] == '{' {
		if reg, err := decodeJSON(file, data); err == nil || !errors.Is(err, errNotJSON) {
			return reg, err
		}
	}
	var head struct {
		Version int `yaml:"version"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, parseErr(file, err)
	}
	if head.Version > Version {
		return nil, &ParseError{File: file, Line: 1, Err: &NewerVersionError{Have: head.Version, Want: Version}}
	}
	var reg Registry
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&reg); err != nil {
		return nil, parseErr(file, err)
	}
	if err := reg.Validate(); err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	return &reg, nil
}

var (
	errNotJSON  = errors.New("not JSON")
	jsonVersion = regexp.MustCompile(`^\s*\{\s*"version"\s*:\s*(\d+)\s*[,}]`)
)

func decodeJSON(file string, data []byte) (*Registry, error) {
	var head struct {
		Version int `json:"version"`
	}
	// devenv writes "version" first: read it without decoding the file
	// twice, so a newer file is refused before its new keys confuse us.
	if m := jsonVersion.FindSubmatch(data[:min(len(data), 256)]); m != nil {
		head.Version, _ = strconv.Atoi(string(m[1]))
	} else if err := json.Unmarshal(data, &head); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Maybe YAML flow style that is not JSON: let YAML decide.
			return nil, errNotJSON
		}
		return nil, &ParseError{File: file, Line: lineAt(data, jsonOffset(err)), Err: errors.New(strings.TrimPrefix(err.Error(), "json: "))}
	}
	if head.Version > Version {
		return nil, &ParseError{File: file, Line: 1, Err: &NewerVersionError{Have: head.Version, Want: Version}}
	}
	var reg Registry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&reg); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, errNotJSON
		}
		return nil, &ParseError{File: file, Line: lineAt(data, dec.InputOffset()), Err: errors.New(strings.Replace(strings.TrimPrefix(err.Error(), "json: "), "unknown field", "unknown key", 1))}
	}
	if err := reg.Validate(); err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	return &reg, nil
}

func jsonOffset(err error) int64 {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Offset
	}
	return 0
}

func lineAt(data []byte, off int64) int {
	if off <= 0 || off > int64(len(data)) {
		return 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func parseErr(file string, err error) error {
	line := 0
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = lineRe.ReplaceAllString(msg, "")
	msg = strings.Trim(strings.ReplaceAll(msg, "unmarshal errors:\n  ", ""), " :")
	return &ParseError{File: file, Line: line, Err: errors.New(msg)}
}

// Encode renders the registry in JSON syntax, which is YAML: one
// reservation per line, so the file stays readable and diffs stay small.
func Encode(reg *Registry) ([]byte, error) {
	reg.sort()
	reg.Version = Version
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"version\": %d", reg.Version)
	if reg.Publish != "" {
		pb, _ := json.Marshal(reg.Publish)
		fmt.Fprintf(&b, ",\n  \"publish\": %s", pb)
	}
	if len(reg.Rules) > 0 {
		rules, err := json.Marshal(reg.Rules)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, ",\n  \"rules\": %s", rules)
	}
	b.WriteString(",\n  \"projects\": [")
	for i, p := range reg.Projects {
		if i > 0 {
			b.WriteString(",")
		}
		head := struct {
			Name     string `json:"name"`
			Dir      string `json:"directory"`
			Engine   string `json:"engine,omitempty"`
			Endpoint string `json:"endpoint,omitempty"`
			Stack    string `json:"stack,omitempty"`
		}{p.Name, p.Dir, p.Engine, p.Endpoint, p.Stack}
		hb, err := json.Marshal(head)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\n    %s, \"reservations\": [", hb[:len(hb)-1])
		for j, r := range p.Reservations {
			rb, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n      ")
			b.Write(rb)
		}
		if len(p.Reservations) > 0 {
			b.WriteString("\n    ")
		}
		b.WriteString("]}")
	}
	if len(reg.Projects) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	return b.Bytes(), nil
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

// ensurePrivateDir creates dir (and parents) as 0700, whatever the umask.
func ensurePrivateDir(dir string) error {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("registry directory %s is not a directory", dir)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create registry directory %s: %w", dir, err)
	}
	return os.Chmod(dir, 0o700)
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so readers see the old or the new content, never a
// part. It refuses to replace a symlink.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symlink; refusing to write through it", path)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
