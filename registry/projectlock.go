package registry

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// LockProject serialises changes to one project across devenv processes
// (two ups at once would each create what the other is creating). The lock
// is a file beside the registry, projects/NAME.lock, held until unlock is
// called or the process ends. It waits as long as ctx allows; waiting is
// called once, with the holder's pid when known, if the lock is not free
// at once. The context returned carries the lock: a LockProject of the
// same project with it (a verb that runs another, as run runs up) passes
// through, while any other caller, in this process too, waits its turn.
func (s *Store) LockProject(ctx context.Context, project string, waiting func(pid int)) (context.Context, func(), error) {
	if project == "" || strings.ContainsAny(project, `/\`) || project == "." || project == ".." {
		return ctx, nil, fmt.Errorf("lock project %q: not a project name", project)
	}
	dir := filepath.Join(filepath.Dir(s.Path), "projects")
	path := filepath.Join(dir, project+".lock")
	if held, _ := ctx.Value(heldKey{}).(map[string]bool); held[path] {
		return ctx, func() {}, nil
	}
	if err := ensurePrivateDir(dir); err != nil {
		return ctx, nil, err
	}
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return ctx, nil, fmt.Errorf("project lock %s is a symlink; refusing to use it", path)
	}
	// A lock on a file of its own open: flock keeps out every other open,
	// in this process as in others.
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return ctx, nil, fmt.Errorf("lock project %s (%s): %w", project, path, err)
	}
	if !ok {
		if waiting != nil {
			pid := 0
			if b, rerr := os.ReadFile(path); rerr == nil {
				pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			}
			waiting(pid)
		}
		if ok, err = fl.TryLockContext(ctx, 25*time.Millisecond); !ok {
			if ctx.Err() != nil {
				return ctx, nil, ctx.Err()
			}
			return ctx, nil, fmt.Errorf("lock project %s (%s): %w", project, path, err)
		}
	}
	writePID(path)
	held := map[string]bool{path: true}
	if outer, ok := ctx.Value(heldKey{}).(map[string]bool); ok {
		for k := range outer {
			held[k] = true
		}
	}
	return context.WithValue(ctx, heldKey{}, held), func() { _ = fl.Unlock() }, nil
}

// heldKey is the context key of the project locks a call chain holds.
type heldKey struct{}
