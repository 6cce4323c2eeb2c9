//go:build unix && !linux && !darwin

package process

// startTime is unknown here: no process is verifiable, so none is signalled.
func startTime(int) string { return "" }
