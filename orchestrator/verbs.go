package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"github.com/devenv-dev/devenv/internal/suggest"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/archive"
)

// KillOptions are the flags of `kill`.
type KillOptions struct {
	Services      []string
	Signal        string // default SIGKILL
	RemoveOrphans bool
}

// Kill sends a signal to the running containers of the selected services
// (and, to the process groups of host services devenv runs), as compose's
// kill does.
func (o *Orchestrator) Kill(ctx context.Context, p *compose.Project, opts KillOptions) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	containers, hosts, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return err
	}
	sig := opts.Signal
	if sig == "" {
		sig = "SIGKILL"
	}
	var errs []error
	for _, c := range containers {
		if c.State != "running" {
			continue
		}
		if !p.Declares(c.Labels[LabelService]) && len(p.Files) > 0 && !opts.RemoveOrphans {
			continue
		}
		o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Killing", Detail: sig})
		if err := o.Engine.Kill(ctx, c.ID, sig); err != nil {
			errs = append(errs, fmt.Errorf("kill %s: %w", c.Name, err))
			continue
		}
		o.emit(Event{Service: c.Labels[LabelService], Name: c.Name, Status: "Killed", Detail: sig})
	}
	if o.Hosts != nil {
		for _, h := range hosts {
			if _, ok := o.Hosts.Status(p.Name(), h); !ok {
				continue
			}
			if err := o.Hosts.Signal(p.Name(), h, sig); err != nil {
				errs = append(errs, fmt.Errorf("kill host service %s: %w", h, err))
				continue
			}
			o.emit(Event{Service: h, Name: "host", Status: "Killed", Detail: sig})
		}
	}
	return errors.Join(errs...)
}

// Pause freezes, and Unpause thaws, the selected services' containers.
func (o *Orchestrator) Pause(ctx context.Context, p *compose.Project, services []string, pause bool) error {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	containers, _, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range containers {
		svc := c.Labels[LabelService]
		switch {
		case pause && c.State == "running":
			o.emit(Event{Service: svc, Name: c.Name, Status: "Pausing"})
			if err := o.Engine.Pause(ctx, c.ID); err != nil {
				errs = append(errs, fmt.Errorf("pause %s: %w", c.Name, err))
				continue
			}
			o.emit(Event{Service: svc, Name: c.Name, Status: "Paused"})
		case !pause && c.State == "paused":
			o.emit(Event{Service: svc, Name: c.Name, Status: "Unpausing"})
			if err := o.Engine.Unpause(ctx, c.ID); err != nil {
				errs = append(errs, fmt.Errorf("unpause %s: %w", c.Name, err))
				continue
			}
			o.emit(Event{Service: svc, Name: c.Name, Status: "Unpaused"})
		}
	}
	return errors.Join(errs...)
}

// RmOptions are the flags of `rm`.
type RmOptions struct {
	Services []string
	// Stop stops running containers first (-s); otherwise they are left.
	Stop bool
	// Volumes removes the containers' anonymous volumes (-v).
	Volumes bool
	// Confirm is asked with the names before anything is removed; nil
	// removes without asking (-f).
	Confirm func(names []string) bool
}

// Rm removes the selected services' stopped containers, as compose's rm
// does; named volumes always stay.
func (o *Orchestrator) Rm(ctx context.Context, p *compose.Project, opts RmOptions) ([]string, error) {
	ctx, unlock, err := o.lockProject(ctx, p.Name())
	if err != nil {
		return nil, err
	}
	defer unlock()
	containers, _, err := o.selectLifecycle(ctx, p, opts.Services)
	if err != nil {
		return nil, err
	}
	var targets []Container
	var names []string
	for _, c := range containers {
		if opts.Stop || (c.State != "running" && c.State != "paused" && c.State != "restarting") {
			targets = append(targets, c)
			names = append(names, c.Name)
		}
	}
	if len(targets) == 0 || (opts.Confirm != nil && !opts.Confirm(names)) {
		return nil, nil
	}
	if opts.Stop {
		if err := o.stopOrdered(ctx, p, targets, nil); err != nil {
			return nil, err
		}
	}
	if err := o.removeContainers(ctx, targets, opts.Volumes); err != nil {
		return nil, err
	}
	return names, nil
}

// TopRow is one process of a service's container.
type TopRow struct {
	Service   string
	Container string
	Values    []string
}

// Top lists the processes of the selected services' running containers,
// with the engine's column titles.
func (o *Orchestrator) Top(ctx context.Context, p *compose.Project, services []string) ([]string, []TopRow, error) {
	containers, hosts, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return nil, nil, err
	}
	var titles []string
	var rows []TopRow
	if o.Hosts != nil {
		for _, h := range hosts {
			for _, pr := range o.Hosts.Processes(p.Name(), h) {
				titles = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}
				rows = append(rows, TopRow{Service: h, Container: "host:" + h, Values: pr})
			}
		}
	}
	for _, c := range containers {
		if c.State != "running" {
			continue
		}
		t, procs, err := o.Engine.Top(ctx, c.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("top %s: %w", c.Name, err)
		}
		titles = t
		for _, pr := range procs {
			rows = append(rows, TopRow{Service: c.Labels[LabelService], Container: c.Name, Values: pr})
		}
	}
	return titles, rows, nil
}

// ImageRow is the image of one of the project's containers.
type ImageRow struct {
	Container string
	Image     Image
	Ref       string // as the container was created with
}

// Images lists the image each selected container was created from.
func (o *Orchestrator) Images(ctx context.Context, p *compose.Project, services []string) ([]ImageRow, error) {
	containers, _, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return nil, err
	}
	var rows []ImageRow
	for _, c := range containers {
		id := c.ImageID
		if id == "" {
			id = c.Image
		}
		im, err := o.Engine.ImageInspect(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("image of %s: %w", c.Name, err)
		}
		rows = append(rows, ImageRow{Container: c.Name, Image: im, Ref: c.Image})
	}
	return rows, nil
}

// ProjectVolumes lists the volumes labelled for the project; with
// services, only those their containers mount.
func (o *Orchestrator) ProjectVolumes(ctx context.Context, p *compose.Project, services []string) ([]Volume, error) {
	vols, err := o.Engine.Volumes(ctx, []string{LabelProject + "=" + p.Name()})
	if err != nil || len(services) == 0 {
		return vols, err
	}
	used := map[string]bool{}
	for _, name := range services {
		svc, ok := p.Model.Services[name]
		if !ok {
			return nil, &compose.UnknownServiceError{Service: name, File: p.MainFile(), Suggestion: suggest.Closest(name, p.AllServiceNames())}
		}
		for _, v := range svc.Volumes {
			if vol, ok := p.Model.Volumes[v.Source]; ok {
				used[vol.Name] = true
			}
		}
	}
	var out []Volume
	for _, v := range vols {
		if used[v.Name] {
			out = append(out, v)
		}
	}
	return out, nil
}

// ProjectEvent is an engine event of one of the project's containers.
type ProjectEvent struct {
	EngineEvent
	Service string
}

// EventsOptions are the flags of `events`.
type EventsOptions struct {
	Services     []string
	Since, Until string
}

// Events streams the project's container events to fn until ctx ends (or
// until Until is reached).
func (o *Orchestrator) Events(ctx context.Context, p *compose.Project, opts EventsOptions, fn func(ProjectEvent) error) error {
	evs, errs := o.Engine.Events(ctx, []string{LabelProject + "=" + p.Name()}, opts.Since, opts.Until)
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				select {
				case err := <-errs:
					return err
				default:
					return nil
				}
			}
			svc := ev.Attributes[LabelService]
			if len(opts.Services) > 0 && !slices.Contains(opts.Services, svc) {
				continue
			}
			if err := fn(ProjectEvent{EngineEvent: ev, Service: svc}); err != nil {
				return err
			}
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err() // interrupted: exit 130
		}
	}
}

// WaitResult is a container or host service that stopped.
type WaitResult struct {
	Container, ID string
	// Host is a host service's name ("" for a container).
	Host     string
	ExitCode int
}

// Wait blocks until the selected services' containers stop, reporting each
// to fn as it does. With downProject, the first to stop takes the project
// down (as compose's wait --down-project).
func (o *Orchestrator) Wait(ctx context.Context, p *compose.Project, services []string, downProject bool, fn func(WaitResult)) error {
	containers, hosts, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return err
	}
	if o.Hosts == nil {
		hosts = nil
	}
	if len(containers)+len(hosts) == 0 {
		return &compose.ConfigError{File: p.MainFile(), Msg: "no containers or host services to wait for"}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan WaitResult, len(containers)+len(hosts))
	errs := make(chan error, len(containers)+len(hosts))
	for _, h := range hosts {
		go func() {
			// A host service has ended when its supervisor has (no
			// restart left); its state keeps the exit code.
			for {
				st, alive := o.Hosts.Status(p.Name(), h)
				if !alive {
					results <- WaitResult{Container: "host:" + h, ID: "host:" + h, Host: h, ExitCode: st.ExitCode}
					return
				}
				select {
				case <-wctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}
	for _, c := range containers {
		go func() {
			code, err := o.Engine.Wait(wctx, c.ID)
			if err != nil {
				errs <- fmt.Errorf("wait for %s: %w", c.Name, err)
				return
			}
			results <- WaitResult{Container: c.Name, ID: c.ID, ExitCode: code}
		}()
	}
	for range len(containers) + len(hosts) {
		select {
		case r := <-results:
			fn(r)
			if downProject {
				cancel()
				return o.Down(ctx, p, DownOptions{})
			}
		case err := <-errs:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// removeImages removes the services' images after down (--rmi all; local
// means images without an image: name, which devenv never has as it does
// not build). An image another container uses stays, with a warning.
func (o *Orchestrator) removeImages(ctx context.Context, p *compose.Project, which string) {
	if which != "all" && which != "local" {
		return
	}
	seen := map[string]bool{}
	for _, name := range p.Model.ServiceNames() {
		svc := p.Model.Services[name]
		// all: every service's image; local: those built under compose's
		// own name (no image: of their own), as compose's --rmi local.
		img := svc.Image
		if which == "local" {
			img = ""
			if svc.Image == "" && svc.Build != nil {
				img = imageName(p.Name(), svc)
			}
		} else if img == "" && svc.Build != nil {
			img = imageName(p.Name(), svc)
		}
		if img == "" || seen[img] {
			continue
		}
		seen[img] = true
		o.emit(Event{Name: img, Status: "Removing"})
		if err := o.Engine.RemoveImage(ctx, img); err != nil && !errors.Is(err, ErrNotFound) {
			o.warn(name, fmt.Sprintf("image %s not removed: %v", img, err))
			continue
		}
		o.emit(Event{Name: img, Status: "Removed"})
	}
}

// StatsRow is one container's sample.
type StatsRow struct {
	ID, Name string
	Stats    Stats
}

// Stats samples the selected services' running containers (all of the
// project's with all), in parallel.
func (o *Orchestrator) Stats(ctx context.Context, p *compose.Project, services []string) ([]StatsRow, error) {
	containers, _, err := o.selectLifecycle(ctx, p, services)
	if err != nil {
		return nil, err
	}
	var running []Container
	for _, c := range containers {
		if c.State == "running" {
			running = append(running, c)
		}
	}
	rows := make([]StatsRow, len(running))
	errs := make([]error, len(running))
	var wg sync.WaitGroup
	for i, c := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := o.Engine.Stats(ctx, c.ID)
			rows[i], errs[i] = StatsRow{ID: c.ID, Name: c.Name, Stats: st}, err
		}()
	}
	wg.Wait()
	return rows, errors.Join(errs...)
}

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
		if !isLeftover(containers[i]) {
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
