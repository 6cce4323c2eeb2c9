// Package errdefs holds the kinds of error devenv's exit codes tell apart.
// A package that detects a condition keeps its own error (a sentinel, or a
// type naming the file, service or port) and makes it unwrap to one of
// these kinds; the command line maps kinds, and nothing else, to exit
// codes.
package errdefs

import "errors"

var (
	// ErrInvalid is a usage or configuration error: a bad flag, an
	// invalid compose file or x-devenv block, an unknown service, an
	// unsafe or unreadable registry. Exit code 2.
	ErrInvalid = errors.New("invalid usage or configuration")
	// ErrConflict is a port conflict. Exit code 3.
	ErrConflict = errors.New("port conflict")
	// ErrUnreachable is a container engine that cannot be reached. Exit
	// code 4.
	ErrUnreachable = errors.New("docker engine unreachable")
)

// Invalid is err as a usage or configuration error (nil stays nil).
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &kinded{err: err, kind: ErrInvalid}
}

type kinded struct {
	err  error
	kind error
}

func (k *kinded) Error() string   { return k.err.Error() }
func (k *kinded) Unwrap() []error { return []error{k.err, k.kind} }

// New is a package's own sentinel of a kind: errors.Is finds both.
func New(msg string, kind error) error { return &kinded{err: errors.New(msg), kind: kind} }
