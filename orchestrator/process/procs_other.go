//go:build !linux

package process

// Processes is not listed here (it reads /proc).
func (d Dir) Processes(string, string) [][]string { return nil }
