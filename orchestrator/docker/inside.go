package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Events streams container events with every label.
func (e *Engine) Events(ctx context.Context, labels []string, since, until string) (<-chan orchestrator.EngineEvent, <-chan error) {
	f := labelFilter(labels).Add("type", "container")
	res := e.cli.Events(ctx, client.EventsListOptions{Since: since, Until: until, Filters: f})
	out := make(chan orchestrator.EngineEvent)
	errs := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case m, ok := <-res.Messages:
				if !ok {
					return
				}
				ev := orchestrator.EngineEvent{Type: string(m.Type), Action: string(m.Action), ID: m.Actor.ID, Time: time.Unix(0, m.TimeNano), Attributes: m.Actor.Attributes}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-res.Err:
				if err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
					errs <- e.wrap(err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errs
}

// CopyFrom streams a tar of path in the container.
func (e *Engine) CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, orchestrator.PathInfo, error) {
	res, err := e.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		return nil, orchestrator.PathInfo{}, e.wrap(err)
	}
	return res.Content, orchestrator.PathInfo{Name: res.Stat.Name, IsDir: res.Stat.Mode.IsDir()}, nil
}

// CopyTo extracts a tar into dir in the container.
func (e *Engine) CopyTo(ctx context.Context, id, dir string, content io.Reader, owners bool) error {
	_, err := e.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: dir, Content: content, CopyUIDGID: owners})
	return e.wrap(err)
}

// StatPath says what path is in the container.
func (e *Engine) StatPath(ctx context.Context, id, path string) (orchestrator.PathInfo, error) {
	res, err := e.cli.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: path})
	if err != nil {
		return orchestrator.PathInfo{}, e.wrap(err)
	}
	return orchestrator.PathInfo{Name: res.Stat.Name, IsDir: res.Stat.Mode.IsDir(), LinkTarget: res.Stat.LinkTarget}, nil
}

// Stats samples the container once, with the previous sample for CPU, and
// computes what docker stats shows.
func (e *Engine) Stats(ctx context.Context, id string) (orchestrator.Stats, error) {
	res, err := e.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{IncludePreviousSample: true})
	if err != nil {
		return orchestrator.Stats{}, e.wrap(err)
	}
	defer res.Body.Close()
	var v container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		return orchestrator.Stats{}, fmt.Errorf("stats of %s: %w", id, err)
	}
	st := orchestrator.Stats{MemLimit: v.MemoryStats.Limit, PIDs: v.PidsStats.Current}
	cpu := float64(v.CPUStats.CPUUsage.TotalUsage) - float64(v.PreCPUStats.CPUUsage.TotalUsage)
	sys := float64(v.CPUStats.SystemUsage) - float64(v.PreCPUStats.SystemUsage)
	cpus := float64(v.CPUStats.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(v.CPUStats.CPUUsage.PercpuUsage))
	}
	if cpu > 0 && sys > 0 {
		st.CPUPercent = cpu / sys * cpus * 100
	}
	// As docker stats: the page cache does not count as used.
	st.MemUsage = v.MemoryStats.Usage
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if c, ok := v.MemoryStats.Stats[k]; ok && c < st.MemUsage {
			st.MemUsage -= c
			break
		}
	}
	for _, n := range v.Networks {
		st.NetRx += n.RxBytes
		st.NetTx += n.TxBytes
	}
	for _, b := range v.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(b.Op) {
		case "read":
			st.BlockRead += b.Value
		case "write":
			st.BlockWrite += b.Value
		}
	}
	return st, nil
}

// Top lists a running container's processes.
func (e *Engine) Top(ctx context.Context, id string) ([]string, [][]string, error) {
	res, err := e.cli.ContainerTop(ctx, id, client.ContainerTopOptions{})
	if err != nil {
		return nil, nil, e.wrap(err)
	}
	return res.Titles, res.Processes, nil
}

// Exec runs cmd in the container and returns its exit code and output.
func (e *Engine) Exec(ctx context.Context, id string, cmd []string) (orchestrator.ExecResult, error) {
	cr, err := e.cli.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return orchestrator.ExecResult{}, e.wrap(err)
	}
	att, err := e.cli.ExecAttach(ctx, cr.ID, client.ExecAttachOptions{})
	if err != nil {
		return orchestrator.ExecResult{}, e.wrap(err)
	}
	var out strings.Builder
	done := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&limitWriter{w: &out, n: 4096}, &limitWriter{w: &out, n: 4096}, att.Reader)
		done <- err
	}()
	select {
	case <-done:
	case <-ctx.Done():
		att.Close()
		return orchestrator.ExecResult{}, ctx.Err()
	}
	att.Close()
	ins, err := e.cli.ExecInspect(ctx, cr.ID, client.ExecInspectOptions{})
	if err != nil {
		return orchestrator.ExecResult{}, e.wrap(err)
	}
	return orchestrator.ExecResult{ExitCode: ins.ExitCode, Output: out.String()}, nil
}

type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// Logs copies a container's logs, demultiplexed unless it has a TTY.
func (e *Engine) Logs(ctx context.Context, id string, o orchestrator.LogOptions, stdout, stderr io.Writer) error {
	ins, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return e.wrap(err)
	}
	tail := o.Tail
	if tail == "" {
		tail = "all"
	}
	rc, err := e.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: tail, Timestamps: o.Timestamps, Since: o.Since, Until: o.Until})
	if err != nil {
		return e.wrap(err)
	}
	defer rc.Close()
	if ins.Container.Config != nil && ins.Container.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}
