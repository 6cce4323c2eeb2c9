package envfile

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/registry"
)

// SafePath resolves rel inside dir and refuses anything that would write
// outside it or through a symlink.
func SafePath(dir, rel string) (string, error) {
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w: %s is absolute", ErrUnsafePath, rel)
	}
	full := filepath.Join(dir, rel)
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("project directory %s: %w", dir, err)
	}
	if !within(root, filepath.Join(root, rel)) {
		return "", fmt.Errorf("%w: %s leaves the project directory %s", ErrUnsafePath, rel, dir)
	}
	// Every existing parent must resolve inside the project.
	parent := filepath.Dir(full)
	for p := parent; within(dir, p); p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if !within(root, real) {
				return "", fmt.Errorf("%w: %s resolves to %s, outside the project directory", ErrUnsafePath, rel, real)
			}
			break
		}
		if p == dir {
			break
		}
	}
	if st, err := os.Lstat(full); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return "", fmt.Errorf("%w: %s is a symlink; devenv never writes through one", ErrUnsafePath, full)
	}
	return full, nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Drift lists how the file's managed block differs from vars.
func Drift(rel, content string, vars [][2]string) []string {
	have := map[string]string{}
	inBlock, found := false, false
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case line == BlockBegin:
			inBlock, found = true, true
		case line == BlockEnd:
			inBlock = false
		case inBlock:
			if k, v, ok := strings.Cut(line, "="); ok {
				have[k] = v
			}
		}
	}
	var out []string
	if !found {
		return []string{rel + ": no devenv block"}
	}
	for _, kv := range vars {
		v, ok := have[kv[0]]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: %s missing (want %s)", rel, kv[0], kv[1]))
		case v != Quote(kv[1]):
			out = append(out, fmt.Sprintf("%s: %s=%s, want %s", rel, kv[0], v, kv[1]))
		}
		delete(have, kv[0])
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		out = append(out, fmt.Sprintf("%s: %s is no longer declared", rel, k))
	}
	return out
}

// Quote is v as a dotenv value: quoted when it has blanks, quotes, # or $.
func Quote(v string) string {
	if strings.ContainsAny(v, " #\"'$\\`") {
		return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
	}
	return v
}

// Render is content with devenv's block replaced by vars (appended
// where there is none). A block that begins and never ends is refused:
// whatever follows its first line is the user's, not devenv's to drop.
func Render(content string, vars [][2]string) (string, error) {
	var block []string
	block = append(block, BlockBegin)
	for _, kv := range vars {
		block = append(block, kv[0]+"="+Quote(kv[1]))
	}
	block = append(block, BlockEnd)
	lines := strings.Split(content, "\n")
	var out []string
	replaced, inBlock := false, false
	for _, line := range lines {
		switch {
		case strings.TrimRight(line, "\r") == BlockBegin:
			inBlock = true
			if !replaced {
				out = append(out, block...)
				replaced = true
			}
		case inBlock && strings.TrimRight(line, "\r") == BlockEnd:
			inBlock = false
		case inBlock:
		default:
			out = append(out, line)
		}
	}
	if inBlock {
		return "", fmt.Errorf("devenv's block begins here but its last line (%s) is missing; put it back after the block, or remove the block's first line, and run devenv again", BlockEnd)
	}
	text := strings.Join(out, "\n")
	if !replaced {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += strings.Join(block, "\n") + "\n"
	}
	return text, nil
}

// Write puts vars in devenv's block of the file at full (0600 when new,
// in a 0700 directory it makes), keeping every other line, replacing the
// file atomically and never through a link.
func Write(dir, full string, vars [][2]string) error {
	perm := fs.FileMode(0o600)
	current := ""
	if st, err := os.Lstat(full); err == nil {
		perm = st.Mode().Perm()
		b, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		current = string(b)
	}
	parent := filepath.Dir(full)
	if _, err := os.Stat(parent); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return err
		}
		if err := os.Chmod(parent, 0o700); err != nil {
			return err
		}
	}
	text, err := Render(current, vars)
	if err != nil {
		return &compose.ConfigError{File: full, Msg: err.Error()}
	}
	return registry.WriteFileAtomic(full, []byte(text), perm)
}

// The lines that open and close devenv's block in an env file.
const (
	BlockBegin = "# >>> devenv: managed block, rewritten by `devenv env`; edit x-devenv.env_files instead"
	BlockEnd   = "# <<< devenv"
)

// ErrUnsafePath is an env file devenv refuses to write.
var ErrUnsafePath = errors.New("unsafe env file path")
