//go:build !linux

package process

// Processes is not listed here (it reads /proc).
func (d Dir) Processes(string, string) [][]string { return nil }

// Usage is not measured here (it reads /proc).
func (d Dir) Usage(string, string) (ticks, rss uint64, ok bool) { return 0, 0, false }
