package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/scaffold"
	"github.com/urfave/cli/v2"
)

// initOptions are init's flags.
type initOptions struct {
	Args  []string
	Write bool
	Force bool
}

func newInitCmd(a *app) *cli.Command {
	o := &initOptions{}
	return &cli.Command{
		Name:      "init",
		Usage:     "propose the x-devenv block for this project (host services, env-file templates); --write inserts it",
		UsageText: "devenv init            # print the proposal\n   devenv init --write    # insert it, changing nothing else in the file",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "write", Usage: "insert the block into the compose file (every other byte stays as it is)", Destination: &o.Write},
			&cli.BoolFlag{Name: "force", Usage: "with --write, replace an existing x-devenv block", Destination: &o.Force},
		},
		Action: func(c *cli.Context) error {
			o.Args = c.Args().Slice()
			return runInit(c.Context, a, o)
		},
	}
}

func runInit(ctx context.Context, a *app, o *initOptions) error {
	if o.Force && !o.Write {
		return usagef("init: --force replaces a block --write would insert; give both")
	}
	p, err := a.projectWith(ctx, loading{Fast: true})
	if err != nil {
		return err
	}
	block, err := scaffold.Propose(p)
	if err != nil {
		return err
	}
	file := p.MainFile()
	ext, declared := p.Model.Extensions[compose.ExtensionKey]
	switch {
	case block == "" && declared && ext == nil:
		fmt.Fprintf(a.stderr, "init: the x-devenv block of %s is empty, and there is nothing to propose for it: no mix.exs with Phoenix, no package.json with vite, no *.env.example pointing at a published port\n", file)
		return nil
	case block == "" && declared:
		fmt.Fprintf(a.stderr, "init: the x-devenv block of %s already has everything init would propose\n", file)
		return nil
	case block == "":
		fmt.Fprintf(a.stderr, "init: nothing to propose for %s: no mix.exs with Phoenix, no package.json with vite, no *.env.example pointing at a published port\n", p.Dir())
		return nil
	case declared && (!o.Force || !inFile(file)):
		// Only what the existing block lacks, to add by hand.
		where := file + " has an x-devenv block already"
		if !inFile(file) {
			where = "x-devenv is declared in another compose file of the project (an override or include)"
		}
		fmt.Fprintf(a.stderr, "init: %s; what it lacks, to add there:\n", where)
		if _, err := fmt.Fprint(a.stdout, block); err != nil {
			return err
		}
		switch {
		case o.Write && !inFile(file):
			return usagef("init: %s; edit it there", where)
		case o.Write:
			return usagef("init: %s: an x-devenv block is there already; --force replaces it", file)
		}
		return nil
	case !o.Write:
		_, err := fmt.Fprint(a.stdout, block)
		return err
	case declared:
		// --force: the whole proposal replaces the block, not only
		// what the block lacked.
		if block, err = scaffold.ProposeAll(p); err != nil {
			return err
		}
	}
	if err := rewriteFile(file, func(src []byte) ([]byte, error) {
		if declared && !scaffold.Has(src) {
			return nil, usagef("init: x-devenv is declared in another compose file of the project (an override or include); edit it there")
		}
		return scaffold.Insert(src, block, o.Force)
	}); err != nil {
		if errors.Is(err, scaffold.ErrHasBlock) {
			return usagef("init: %s: %v; --force replaces it", file, err)
		}
		return err
	}
	fmt.Fprintf(a.stderr, "wrote the x-devenv block into %s\n", file)
	return nil
}

// inFile says the compose file itself has a top-level x-devenv block.
func inFile(path string) bool {
	src, err := os.ReadFile(path)
	return err == nil && scaffold.Has(src)
}

// rewriteFile replaces path with change(its bytes): a new file in the same
// directory with the same mode, renamed over it, so a reader never sees
// half of it. A symlink is refused: devenv does not write through links.
func rewriteFile(path string, change func([]byte) ([]byte, error)) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return usagef("%s is a symlink; devenv does not write through links", path)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := change(src)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".devenv-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
