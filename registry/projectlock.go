package registry

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// LockProject serialises changes to one project across devenv processes
// (two ups at once would each create what the other is creating). The lock
// is a file beside the registry, projects/NAME.lock, held until unlock is
// called or the process ends. It waits as long as ctx allows; waiting is
// called once, with the holder's pid when known, if the lock is not free
// at once. Within one process the lock is re-entrant (a verb that runs
// another, as run runs up, passes through).
func (s *Store) LockProject(ctx context.Context, project string, waiting func(pid int)) (unlock func(), err error) {
	if project == "" || strings.ContainsAny(project, `/\`) || project == "." || project == ".." {
		return nil, fmt.Errorf("lock project %q: not a project name", project)
	}
	dir := filepath.Join(filepath.Dir(s.Path), "projects")
	if err := ensurePrivateDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, project+".lock")
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("project lock %s is a symlink; refusing to use it", path)
	}
	held.Lock()
	if h := held.locks[path]; h != nil {
		h.n++
		held.Unlock()
		return func() { release(path) }, nil
	}
	held.Unlock()
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock project %s (%s): %w", project, path, err)
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
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("lock project %s (%s): %w", project, path, err)
		}
	}
	writePID(path)
	held.Lock()
	if held.locks == nil {
		held.locks = map[string]*heldLock{}
	}
	if h := held.locks[path]; h != nil {
		// Another goroutine of this process took it meanwhile (flock
		// locks are per open file): share that one.
		h.n++
		held.Unlock()
		_ = fl.Unlock()
		return func() { release(path) }, nil
	}
	held.locks[path] = &heldLock{fl: fl, n: 1}
	held.Unlock()
	return func() { release(path) }, nil
}

type heldLock struct {
	fl *flock.Flock
	n  int
}

// held are the project locks this process holds, by lock file.
var held struct {
	sync.Mutex
	locks map[string]*heldLock
}

func release(path string) {
	held.Lock()
	defer held.Unlock()
	h := held.locks[path]
	if h == nil {
		return
	}
	if h.n--; h.n == 0 {
		delete(held.locks, path)
		_ = h.fl.Unlock()
	}
}
