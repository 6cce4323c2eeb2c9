//go:build !linux

package process

// becomeSubreaper is Linux's alone: elsewhere (macOS) a descendant that
// leaves the service's process group (setsid) is not found by stop.
func becomeSubreaper() error { return nil }

func children(int) map[int]bool { return nil }

func reap(int) {}
