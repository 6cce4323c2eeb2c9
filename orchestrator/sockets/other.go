//go:build !linux && !darwin

package sockets

import "context"

// listening cannot see sockets on this system; conflicts then surface when
// the engine binds the port.
func listening(context.Context, map[int]bool) ([]Socket, error) { return nil, nil }
