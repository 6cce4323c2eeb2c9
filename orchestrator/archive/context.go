package archive

import (
	"archive/tar"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// BuildContext describes a build context to send to the engine.
type BuildContext struct {
	// Dir is the context directory.
	Dir string
	// Dockerfile is the Dockerfile's path, relative to Dir or absolute
	// ("" is Dir/Dockerfile); one outside Dir is sent beside the context,
	// as docker sends it.
	Dockerfile string
	// Inline is a Dockerfile's text (dockerfile_inline), sent the same way.
	Inline string
}

// ContextStats counts what a context sends.
type ContextStats struct {
	Files int
	Bytes int64
}

// PackContext streams the context as the engine's classic builder takes
// it: the files of Dir that .dockerignore does not exclude (docker's own
// pattern rules; the Dockerfile and .dockerignore always go), modes and
// symlinks kept (never followed, so nothing outside Dir is read), owned by
// root. It returns the Dockerfile's name inside the stream.
func PackContext(bc BuildContext, stats *ContextStats) (io.ReadCloser, string, error) {
	dir, err := filepath.Abs(bc.Dir)
	if err != nil {
		return nil, "", err
	}
	// A context that is a symlink is its target, as docker resolves it.
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, "", fmt.Errorf("build context %s: %w", bc.Dir, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, "", fmt.Errorf("build context %s is not a directory", bc.Dir)
	}
	extra, dockerfile, err := locateDockerfile(bc, dir)
	if err != nil {
		return nil, "", err
	}
	patterns, err := readIgnore(dir)
	if err != nil {
		return nil, "", err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, "", fmt.Errorf(".dockerignore: %w", err)
	}
	// A Dockerfile sent beside the context is named in .dockerignore, so
	// the engine reads it but COPY . never copies it (as docker does).
	ignoreText, err := os.ReadFile(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		ignoreText = []byte(".dockerignore\n") // made up here: kept out of the image too
	}
	if extra != nil {
		ignoreText = append(ignoreText, []byte("\n"+dockerfile+"\n")...)
	}
	pr, pw := io.Pipe()
	cw := contextWriter{dir: dir, patterns: patterns, pm: pm, extra: extra, dockerfile: dockerfile, ignoreText: ignoreText, stats: stats}
	go func() { pw.CloseWithError(cw.write(pw)) }()
	return pr, dockerfile, nil
}

// reincluded says whether an exclusion pattern (!PATTERN) may bring back
// something under the excluded directory dir, so it must be walked.
func reincluded(pm *patternmatcher.PatternMatcher, dir string) bool {
	for _, p := range pm.Patterns() {
		if !p.Exclusion() {
			continue
		}
		// moby's rule: an exclusion naming the directory or something in it.
		text := strings.TrimPrefix(p.String(), "/")
		if text == dir || strings.HasPrefix(text, dir+"/") {
			return true
		}
	}
	return false
}

// addContextEntry adds p as entry, owned by root as docker sends context
// files.
func addContextEntry(tw *tar.Writer, p, entry string) error {
	return addEntryWith(tw, p, entry, func(h *tar.Header) { h.Uid, h.Gid = 0, 0 })
}

func readIgnore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return patterns, nil
}

// contextWriter writes a build context's tar: the files .dockerignore lets
// through, the Dockerfile and .dockerignore always, and a Dockerfile from
// outside the context (extra) beside it under a name of its own.
type contextWriter struct {
	dir         string
	patterns    []string
	pm          *patternmatcher.PatternMatcher
	extra       []byte
	dockerfile  string
	ignoreText  []byte
	stats       *ContextStats
	wroteIgnore bool
}

func (c *contextWriter) write(w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(c.dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		// The Dockerfile and .dockerignore go whatever the patterns say.
		always := rel == ".dockerignore" || (c.extra == nil && rel == c.dockerfile)
		if len(c.patterns) > 0 && !always {
			skip, err := c.pm.MatchesOrParentMatches(rel)
			if err != nil {
				return err
			}
			if skip {
				if d.IsDir() && !reincluded(c.pm, rel) && !strings.HasPrefix(c.dockerfile, rel+"/") {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.Type()&(fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice) != 0 {
			return nil // docker's archiver leaves sockets and devices out
		}
		if rel == ".dockerignore" && c.extra != nil {
			c.wroteIgnore = true
			if err := tw.WriteHeader(&tar.Header{Name: rel, Mode: 0o644, Size: int64(len(c.ignoreText)), Typeflag: tar.TypeReg, ModTime: time.Now()}); err != nil {
				return err
			}
			_, err := tw.Write(c.ignoreText)
			return err
		}
		if err := addContextEntry(tw, p, rel); err != nil {
			return err
		}
		if c.stats != nil && d.Type().IsRegular() {
			c.stats.Files++
			if fi, err := d.Info(); err == nil {
				c.stats.Bytes += fi.Size()
			}
		}
		return nil
	})
	if err == nil && c.extra != nil {
		err = tw.WriteHeader(&tar.Header{Name: c.dockerfile, Mode: 0o600, Size: int64(len(c.extra)), Typeflag: tar.TypeReg, ModTime: time.Now()})
		if err == nil {
			_, err = tw.Write(c.extra)
		}
		if err == nil && !c.wroteIgnore {
			err = tw.WriteHeader(&tar.Header{Name: ".dockerignore", Mode: 0o644, Size: int64(len(c.ignoreText)), Typeflag: tar.TypeReg, ModTime: time.Now()})
			if err == nil {
				_, err = tw.Write(c.ignoreText)
			}
		}
	}
	if err == nil {
		err = tw.Close()
	}
	return err
}

// locateDockerfile says which Dockerfile the build uses: its path in the
// context, or (inline, or outside the context) its content to send beside
// it under a random name.
func locateDockerfile(bc BuildContext, dir string) (extra []byte, dockerfile string, err error) {
	switch {
	case bc.Inline != "":
		extra, dockerfile = []byte(bc.Inline), ""
	default:
		abs := bc.Dockerfile
		if abs == "" {
			abs = "Dockerfile"
		}
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, abs)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real // a link to a Dockerfile elsewhere is sent beside
		}
		rel, err := filepath.Rel(dir, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			if extra, err = os.ReadFile(abs); err != nil {
				return nil, "", fmt.Errorf("dockerfile: %w", err)
			}
			dockerfile = ""
		} else {
			dockerfile = filepath.ToSlash(rel)
		}
	}
	if extra != nil {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		dockerfile = ".dockerfile." + hex.EncodeToString(b)
	} else if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(dockerfile))); err != nil {
		return nil, "", fmt.Errorf("dockerfile %s: %w", dockerfile, err)
	}
	return extra, dockerfile, nil
}
