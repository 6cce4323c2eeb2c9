package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Pack streams a tar of src (a file or a directory tree) whose top entry is
// named name. Symlinks are stored as links, never followed.
func Pack(src, name string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			entry := name
			if rel != "." {
				entry = path.Join(name, filepath.ToSlash(rel))
			}
			return addEntry(tw, p, entry)
		})
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

func addEntry(tw *tar.Writer, p, entry string) error { return addEntryWith(tw, p, entry, nil) }

// addEntryWith adds p as entry; adjust may change its header.
func addEntryWith(tw *tar.Writer, p, entry string, adjust func(*tar.Header)) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = entry
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uname, hdr.Gname = "", ""
	if adjust != nil {
		adjust(hdr)
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// Unpack extracts r into the directory dest. With rename, the archive's
// top entry takes that name; a top entry "." (a directory's contents, as
// the engine sends PATH/.) lands in dest itself (or in rename). An entry
// outside the top, or that would land outside dest or be written through
// a symlink, is an error; nothing is written outside dest.
func Unpack(r io.Reader, dest, rename string) error {
	tr := tar.NewReader(r)
	top := ""
	rebase := func(name string) (string, error) {
		name = path.Clean(strings.TrimPrefix(name, "/"))
		first, rest, _ := strings.Cut(name, "/")
		if top == "" {
			top = first
		}
		switch {
		case top == ".":
			// "./", "./f": the path cleans to "f", all of it below the top.
			rest = strings.TrimPrefix(name, ".")
		case first != top:
			return "", fmt.Errorf("archive entry %q is outside its top %q", name, top)
		}
		base := top
		if rename != "" {
			base = rename
		}
		out := path.Join(base, rest)
		if out == ".." || strings.HasPrefix(out, "../") || path.IsAbs(out) {
			return "", fmt.Errorf("archive entry %q leaves %s", name, dest)
		}
		return out, nil
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name, err := rebase(hdr.Name)
		if err != nil {
			return err
		}
		target := filepath.Join(dest, filepath.FromSlash(name))
		if err := noLinkBetween(dest, target); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeLink {
			old, err := rebase(hdr.Linkname)
			if err != nil {
				return err
			}
			_ = os.Remove(target)
			if err := os.Link(filepath.Join(dest, filepath.FromSlash(old)), target); err != nil {
				return err
			}
			continue
		}
		if err := write(tr, hdr, target); err != nil {
			return err
		}
	}
}

// noLinkBetween refuses a target whose parent directories below dest are
// symlinks: writing there would write elsewhere.
func noLinkBetween(dest, target string) error {
	rel, err := filepath.Rel(dest, filepath.Dir(target))
	if err != nil {
		return err
	}
	p := dest
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "." {
			continue
		}
		p = filepath.Join(p, part)
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symlink; devenv does not write through links", p)
		}
	}
	return nil
}

func write(tr *tar.Reader, hdr *tar.Header, target string) error {
	mode := fs.FileMode(hdr.Mode) & fs.ModePerm
	if fi, err := os.Lstat(target); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// Replace the link itself, never what it points to.
		if err := os.Remove(target); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(target, mode|0o700); err != nil {
			return err
		}
		return os.Chmod(target, mode)
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		// Replaced, never truncated in place: another name of a hard link
		// (or a read-only file) is left as it was.
		if fi, err := os.Lstat(target); err == nil && !fi.IsDir() {
			if err := os.Remove(target); err != nil {
				return err
			}
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, mode)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Chmod(target, mode)
	case tar.TypeSymlink:
		_ = os.Remove(target)
		return os.Symlink(hdr.Linkname, target)
	}
	return nil // devices and fifos are not copied
}
