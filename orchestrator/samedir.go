package orchestrator

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/internal/errdefs"
)

// WrongDirError is a project name whose containers or host services belong
// to a project in another directory; devenv refuses to act on them.
type WrongDirError struct {
	Project, Dir, Other string
	// What is the resource found: "container NAME" or "host service NAME
	// (pid N)".
	What string
}

func (e *WrongDirError) Error() string {
	return fmt.Sprintf("project %s here (%s) is also the name of a project in another directory (%s, its %s); devenv leaves it alone: run devenv there, or pick another name here with -p", e.Project, e.Dir, e.Other, e.What)
}

func (e *WrongDirError) Unwrap() error { return errdefs.ErrInvalid }

// checkSameDir refuses containers and host services that carry the
// project's name but another directory: a same-named project elsewhere.
// Without a compose file (-p NAME) there is no directory to compare. A
// directory that is gone from this machine is the project's old place,
// moved here; on a remote engine it may as well be another machine's
// project sharing the engine, so it is refused there.
func (o *Orchestrator) checkSameDir(p *compose.Project, cs []Container) error {
	if len(p.Files) == 0 {
		return nil
	}
	for _, c := range cs {
		wd := c.Labels[LabelWorkingDir]
		if _, err := os.Stat(wd); err != nil && o.reach().onThisMachine() {
			continue // the project moved here from a directory that is gone
		}
		if wd != "" && !sameDir(wd, p.Dir()) {
			return &WrongDirError{Project: p.Name(), Dir: p.Dir(), Other: wd, What: "container " + c.Name}
		}
	}
	return o.checkHostsSameDir(p)
}

// checkHostsSameDir is checkSameDir for host services: their state is kept
// by project name, so a running one started from another directory is that
// project's. State recorded without a directory (an older devenv) is taken
// as this project's.
func (o *Orchestrator) checkHostsSameDir(p *compose.Project) error {
	if o.Hosts == nil || len(p.Files) == 0 {
		return nil
	}
	for _, name := range o.Hosts.Names(p.Name()) {
		st, alive := o.Hosts.Status(p.Name(), name)
		if !alive || st.ProjectDir == "" || sameDir(st.ProjectDir, p.Dir()) {
			continue
		}
		if _, err := os.Stat(st.ProjectDir); err != nil {
			continue // moved here
		}
		return &WrongDirError{Project: p.Name(), Dir: p.Dir(), Other: st.ProjectDir, What: fmt.Sprintf("host service %s (pid %d)", name, st.PID)}
	}
	return nil
}

func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}
