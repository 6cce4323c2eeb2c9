//go:build !unix

package process

import (
	"context"
	"os"
	"time"
)

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

func spawnSupervisor(string) (int, <-chan struct{}, error) { return 0, nil, ErrUnsupported }
func startChild(Spec, *os.File) (<-chan int, int, error)   { return nil, 0, ErrUnsupported }
func detach()                                              {}
func groupExists(int) bool                                 { return false }
func groupAlive(int, string) bool                          { return false }
func sameProcess(int, string) bool                         { return false }
func startTime(int) string                                 { return "" }
func signalPID(int, string) error                          { return ErrUnsupported }
func signalGroup(int, string) error                        { return ErrUnsupported }
func lock(context.Context, string) (func(), error)         { return func() {}, nil }
func stopGroup(context.Context, int, string, time.Duration) (bool, error) {
	return false, ErrUnsupported
}

// Group is unknown here.
func Group(int) int { return 0 }

// Session is unknown here.
func Session(int) int { return 0 }
