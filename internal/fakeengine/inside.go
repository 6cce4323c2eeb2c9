package fakeengine

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/devenv-dev/devenv/orchestrator/engine"
)

func (f *Engine) Events(ctx context.Context, _ []string, _, _ string) (<-chan engine.EngineEvent, <-chan error) {
	out := make(chan engine.EngineEvent)
	go func() { <-ctx.Done(); close(out) }()
	return out, make(chan error)
}

// volumeAt is the named volume a container mounts at dir ("" for none).
func (f *Engine) volumeAt(id, dir string) (string, error) {
	c, err := f.Find(id)
	if err != nil {
		return "", err
	}
	dir = strings.TrimSuffix(strings.TrimSuffix(dir, "/."), "/")
	for _, m := range c.Mounts {
		if m.Type == "volume" && m.Target == dir {
			return m.Source, nil
		}
	}
	return "", nil
}

// CopyFrom is a tar of the files a volume mounted at path holds (Files);
// any other path is not found.
func (f *Engine) CopyFrom(_ context.Context, id, path string) (io.ReadCloser, engine.PathInfo, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	vol, err := f.volumeAt(id, path)
	if err != nil || vol == "" {
		return nil, engine.PathInfo{}, fmt.Errorf("copy %s: %w", path, engine.ErrNotFound)
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, name := range slices.Sorted(maps.Keys(f.Files[vol])) {
		data := f.Files[vol][name]
		tw.WriteHeader(&tar.Header{Name: "./" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	}
	tw.Close()
	return io.NopCloser(&b), engine.PathInfo{Name: ".", IsDir: true}, nil
}

// CopyTo puts a tar's files into the volume mounted at dir (Files).
func (f *Engine) CopyTo(_ context.Context, id, dir string, content io.Reader, _ bool) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	vol, err := f.volumeAt(id, dir)
	if err != nil || vol == "" {
		return err
	}
	tr := tar.NewReader(content)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if f.Files[vol] == nil {
			f.Files[vol] = map[string][]byte{}
		}
		f.Files[vol][strings.TrimPrefix(h.Name, "./")] = data
	}
}

func (f *Engine) StatPath(context.Context, string, string) (engine.PathInfo, error) {
	return engine.PathInfo{}, engine.ErrNotFound
}

func (f *Engine) Stats(_ context.Context, id string) (engine.Stats, error) {
	return engine.Stats{CPUPercent: 1.5, MemUsage: 1 << 20, MemLimit: 1 << 30, PIDs: 3}, nil
}

func (f *Engine) Top(_ context.Context, id string) ([]string, [][]string, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return nil, nil, err
	}
	return []string{"PID", "CMD"}, [][]string{{"1", c.Name}}, nil
}

func (f *Engine) Exec(_ context.Context, id string, cmd []string) (engine.ExecResult, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return engine.ExecResult{}, err
	}
	c.HealthCmds++
	if f.Healthy == nil || f.Healthy(c.Name) {
		c.Health = "healthy"
		return engine.ExecResult{ExitCode: 0}, nil
	}
	return engine.ExecResult{ExitCode: 1, Output: "not ready"}, nil
}

func (f *Engine) Logs(_ context.Context, id string, _ engine.LogOptions, stdout, _ io.Writer) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "log line of %s\n", c.Name)
	return err
}

func (f *Engine) ExecAttached(_ context.Context, id string, spec engine.ExecSpec, s engine.Streams) (int, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return 0, err
	}
	f.record("exec %s %s", c.Name, strings.Join(spec.Cmd, " "))
	return 0, nil
}

func (f *Engine) StartAttached(ctx context.Context, id string, s engine.Streams) (int, error) {
	if err := f.Start(ctx, id); err != nil {
		return 0, err
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	c, err := f.Find(id)
	if err != nil {
		return 0, err
	}
	c.State = "exited"
	return 0, nil
}
