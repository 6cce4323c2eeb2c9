package compose

import (
	"errors"
	"fmt"

	"github.com/devenv-dev/devenv/internal/errdefs"
)

// ErrConfig marks every error that comes from bad compose input; the CLI maps
// it to exit code 2.
var ErrConfig = errdefs.New("invalid configuration", errdefs.ErrInvalid)

// ConfigError names the file and the key that made loading fail.
type ConfigError struct {
	File string // compose file, or "" when no single file is to blame
	Key  string // dotted path such as services.db.ports[0]
	Msg  string
	Err  error
}

func (e *ConfigError) Error() string {
	where := e.File
	if e.Key != "" {
		if where != "" {
			where += ": "
		}
		where += e.Key
	}
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if where == "" {
		return msg
	}
	return fmt.Sprintf("%s: %s", where, msg)
}

func (e *ConfigError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrConfig, e.Err}
	}
	return []error{ErrConfig}
}

// ErrNoFile is no compose file found where devenv looks for one.
var ErrNoFile = errors.New("no compose file found")

// UnknownServiceError reports a service named on the command line that the
// project does not define.
type UnknownServiceError struct {
	Service string
	File    string
	// Suggestion is the declared service it most likely meant, if any.
	Suggestion string
}

func (e *UnknownServiceError) Error() string {
	msg := fmt.Sprintf("%s: no such service: %s", e.File, e.Service)
	if e.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", e.Suggestion)
	}
	return msg
}

func (e *UnknownServiceError) Unwrap() error { return ErrConfig }
