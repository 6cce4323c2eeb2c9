package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devenv-dev/devenv/compose"
	"github.com/devenv-dev/devenv/orchestrator/archive"
	"github.com/devenv-dev/devenv/orchestrator/plan"
	"golang.org/x/sync/errgroup"
)

// LabelImageBuilder is compose's label on images it built, naming the
// builder.
const LabelImageBuilder = "com.docker.compose.image.builder"

// BuildOptions are the flags of `build` (and up --build).
type BuildOptions struct {
	Services []string
	NoCache  bool
	Pull     bool
	// Args override the services' build args (K=V; nil: K from the
	// environment).
	Args     map[string]*string
	WithDeps bool
	Quiet    bool
}

// Build builds the selected services' images (all that have build:), each
// image once, in parallel.
func (o *Orchestrator) Build(ctx context.Context, p *compose.Project, opts BuildOptions) error {
	sel, err := selectNamed(ctx, p, opts.Services, opts.WithDeps)
	if err != nil {
		return err
	}
	d, err := BuildDesired(p, nil, o.Version)
	if err != nil {
		return err
	}
	pl := &Plan{Project: p.Name()}
	seen := map[string]bool{}
	for _, name := range sel {
		ds := d.Services[name]
		if ds.Build == nil || seen[NormalizeRef(ds.Spec.Image)] {
			continue
		}
		seen[NormalizeRef(ds.Spec.Image)] = true
		pl.Steps = append(pl.Steps, Step{Action: ActBuild, Service: name, Name: ds.Spec.Image, Reason: "devenv build"})
	}
	if len(pl.Steps) == 0 {
		o.warn("", "no service to build: none of them has build:")
		return nil
	}
	_, err = o.build(ctx, p, d, pl, opts)
	return err
}

// build runs the plan's build steps, in parallel up to the machine's
// cores; a failed build names its service and step. It says whether it
// built anything.
func (o *Orchestrator) build(ctx context.Context, p *compose.Project, d *Desired, pl *Plan, opts BuildOptions) (bool, error) {
	// A build waits for the builds of the services it depends on (a
	// Dockerfile may start FROM one of the project's images), as compose
	// builds in dependency order; the rest run in parallel.
	done := map[string]chan struct{}{}
	for _, s := range pl.Steps {
		if s.Action == ActBuild {
			done[s.Service] = make(chan struct{})
		}
	}
	if len(done) == 0 {
		return false, nil
	}
	// What the classic builder cannot do is refused before any build runs.
	for name := range done {
		if err := plan.CheckBuild(p.MainFile(), types.ServiceConfig{Name: name, Build: d.Services[name].Build}); err != nil {
			return false, err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	slots := make(chan struct{}, max(1, runtime.NumCPU()))
	var mu sync.Mutex
	failed := map[string]bool{}
	for _, s := range pl.Steps {
		if s.Action != ActBuild {
			continue
		}
		ds := d.Services[s.Service]
		g.Go(func() (err error) {
			defer func() {
				if err != nil {
					mu.Lock()
					failed[ds.Name] = true
					mu.Unlock()
				}
				close(done[ds.Name])
			}()
			for _, dep := range withDependencies(p, []string{ds.Name}) {
				if ch, ok := done[dep]; ok && dep != ds.Name {
					select {
					case <-ch:
					case <-gctx.Done():
						return gctx.Err()
					}
					mu.Lock()
					bad := failed[dep]
					mu.Unlock()
					if bad {
						return fmt.Errorf("service %s: not built, its dependency %s failed to build", ds.Name, dep)
					}
				}
			}
			select {
			case slots <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			defer func() { <-slots }()
			return o.buildOne(gctx, p, ds, opts)
		})
	}
	return true, g.Wait()
}

func (o *Orchestrator) buildOne(ctx context.Context, p *compose.Project, ds *DesiredService, opts BuildOptions) error {
	b := ds.Build
	// Only when it builds: an image that is there runs whatever built it.
	if err := plan.CheckBuild(p.MainFile(), types.ServiceConfig{Name: ds.Name, Build: b}); err != nil {
		return err
	}
	tarball, dockerfile, err := archive.PackContext(archive.BuildContext{Dir: b.Context, Dockerfile: b.Dockerfile, Inline: b.DockerfileInline}, nil)
	if err != nil {
		return &compose.ConfigError{File: p.MainFile(), Key: "services." + ds.Name + ".build", Msg: err.Error()}
	}
	defer tarball.Close()
	// The file's args, then the command line's; K without a value is
	// taken from the environment, else left to the Dockerfile's default
	// (compose merges first and resolves after).
	args := maps.Clone(map[string]*string(b.Args))
	if args == nil {
		args = map[string]*string{}
	}
	maps.Copy(args, opts.Args)
	for k, v := range args {
		if v == nil {
			if env, ok := p.Model.Environment[k]; ok {
				args[k] = &env
			}
		}
	}
	labels := maps.Clone(map[string]string(b.Labels))
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelImageBuilder] = "classic"
	spec := BuildSpec{
		Dockerfile: dockerfile, Tags: append([]string{ds.Spec.Image}, b.Tags...), Args: args, Target: b.Target,
		Labels: labels, Network: b.Network, ExtraHosts: b.ExtraHosts.AsList(":"), ShmSize: int64(b.ShmSize),
		NoCache: b.NoCache || opts.NoCache, Pull: b.Pull || opts.Pull,
	}
	o.emit(Event{Service: ds.Name, Name: ds.Spec.Image, Status: "Building"})
	progress := func(line string) {
		if !opts.Quiet && strings.HasPrefix(line, "Step ") {
			o.emit(Event{Service: ds.Name, Name: ds.Spec.Image, Status: "Building", Detail: line})
		}
	}
	id, err := o.Engine.Build(ctx, spec, tarball, progress)
	if err != nil {
		var be *BuildError
		if errors.As(err, &be) {
			be.Service = ds.Name
			return be
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("service %s: build %s: %w", ds.Name, ds.Spec.Image, err)
	}
	o.emit(Event{Service: ds.Name, Name: ds.Spec.Image, Status: "Built", Detail: plan.ShortID(strings.TrimPrefix(id, "sha256:"))})
	return nil
}
