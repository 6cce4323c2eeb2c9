//go:build !unix

package process

import (
	"context"
	"io"
	"os"
	"time"
)

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

func spawnSupervisor(string) (int, error)                 { return 0, ErrUnsupported }
func startChild(Spec, io.Writer) (<-chan int, int, error) { return nil, 0, ErrUnsupported }
func sameProcess(int, string) bool                        { return false }
func startTime(int) string                                { return "" }
func signalPID(int, string) error                         { return ErrUnsupported }
func signalGroup(int, string) error                       { return ErrUnsupported }
func lock(context.Context, string) (func(), error)        { return func() {}, nil }
func stopGroup(context.Context, int, string, string, time.Duration) (bool, error) {
	return false, ErrUnsupported
}

// Group is unknown here.
func Group(int) int { return 0 }
