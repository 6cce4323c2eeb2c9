package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/archive"
	"github.com/devenv-dev/devenv/orchestrator/plan"
)

// CopyOptions are compose's cp: between a service's container and a host
// path, in either direction.
type CopyOptions struct {
	Service       string
	ContainerPath string
	HostPath      string
	ToContainer   bool
	// Archive (-a) passes docker's CopyUIDGID into the container (files
	// take the container user's IDs); FollowLink copies what a symlink
	// source points to (-L).
	Archive, FollowLink bool
	// Stream is a tar stream in place of HostPath ("-"): read from In and
	// extracted into the container's directory, or written to Out.
	In  io.Reader
	Out io.Writer
}

// Copy copies as docker cp does: into an existing directory under the
// source's name, else to the destination's name. Nothing is written on
// this machine outside the destination, or through a symlink.
func (o *Orchestrator) Copy(ctx context.Context, p *compose.Project, opts CopyOptions) error {
	containers, _, err := o.selectLifecycle(ctx, p, []string{opts.Service})
	if err != nil {
		return err
	}
	var c *Container
	for i := range containers {
		if !plan.IsLeftover(containers[i]) {
			c = &containers[i]
		}
	}
	if c == nil {
		return &compose.ConfigError{File: p.MainFile(), Msg: fmt.Sprintf("service %s has no container; run devenv up first", opts.Service)}
	}
	if opts.ToContainer {
		return o.copyTo(ctx, c, opts)
	}
	return o.copyFrom(ctx, c, opts)
}

func (o *Orchestrator) copyTo(ctx context.Context, c *Container, opts CopyOptions) error {
	if opts.In != nil {
		// A tar stream from stdin goes into the directory as it is.
		if err := o.Engine.CopyTo(ctx, c.ID, opts.ContainerPath, opts.In, opts.Archive); err != nil {
			return fmt.Errorf("cp to %s:%s: %w", c.Name, opts.ContainerPath, err)
		}
		return nil
	}
	if _, err := os.Lstat(opts.HostPath); err != nil {
		return &compose.ConfigError{Msg: fmt.Sprintf("cp: %v", err)}
	}
	src, srcName := opts.HostPath, filepath.Base(filepath.Clean(opts.HostPath))
	if opts.FollowLink {
		// -L: what the link points to, under the link's name.
		target, err := filepath.EvalSymlinks(src)
		if err != nil {
			return &compose.ConfigError{Msg: fmt.Sprintf("cp -L: %v", err)}
		}
		src = target
	}
	dir, name := path.Dir(opts.ContainerPath), path.Base(opts.ContainerPath)
	contents := strings.HasSuffix(opts.HostPath, string(filepath.Separator)+".")
	if st, err := o.Engine.StatPath(ctx, c.ID, opts.ContainerPath); err == nil && st.IsDir {
		dir, name = opts.ContainerPath, srcName
		if contents {
			name = "." // SRC/.: the directory's contents, as docker cp
		}
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("cp to %s:%s: %w", c.Name, opts.ContainerPath, err)
	}
	tarball := archive.Pack(src, name)
	defer tarball.Close()
	if err := o.Engine.CopyTo(ctx, c.ID, dir, tarball, opts.Archive); err != nil {
		return fmt.Errorf("cp to %s:%s: %w", c.Name, opts.ContainerPath, err)
	}
	return nil
}

func (o *Orchestrator) copyFrom(ctx context.Context, c *Container, opts CopyOptions) error {
	from, linkName := opts.ContainerPath, ""
	if opts.FollowLink {
		// -L: the link's target, named as the link.
		if st, err := o.Engine.StatPath(ctx, c.ID, from); err == nil && st.LinkTarget != "" {
			target := st.LinkTarget
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(from), target)
			}
			from, linkName = target, path.Base(opts.ContainerPath)
		}
	}
	rc, _, err := o.Engine.CopyFrom(ctx, c.ID, from)
	if err != nil {
		return fmt.Errorf("cp from %s:%s: %w", c.Name, opts.ContainerPath, err)
	}
	defer rc.Close()
	if opts.Out != nil {
		// "-": the engine's tar stream as it is.
		if _, err := io.Copy(opts.Out, rc); err != nil {
			return fmt.Errorf("cp from %s:%s: %w", c.Name, opts.ContainerPath, err)
		}
		return nil
	}
	dest, rename := filepath.Clean(opts.HostPath), linkName
	if fi, err := os.Stat(dest); err != nil || !fi.IsDir() {
		// A new name (or a file to replace): into its parent, renamed.
		dest, rename = filepath.Dir(dest), filepath.Base(dest)
	}
	// -a changes nothing in this direction, as with docker cp: files are
	// written as the user running devenv.
	if err := archive.Unpack(rc, dest, rename); err != nil {
		return fmt.Errorf("cp from %s:%s: %w", c.Name, opts.ContainerPath, err)
	}
	return nil
}
