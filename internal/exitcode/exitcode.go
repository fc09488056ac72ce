// Package exitcode defines the process exit codes of sail and the one place
// where an error is turned into one. Every package that knows which code its
// failure deserves returns an error implementing Coder; main asks Of(err).
package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// The documented exit codes (README, `sail help exit-codes`).
const (
	OK             = 0
	Error          = 1   // any other error
	Usage          = 2   // bad flag or argument
	Verify         = 3   // webhook verification failed or webhook not delivered
	Config         = 4   // auth or configuration
	Tunnel         = 5   // tunnel could not start
	ResponseFailed = 6   // response ended failed, cancelled or incomplete
	Timeout        = 124 // --timeout elapsed
	Interrupted    = 130 // SIGINT / Ctrl-C
)

// Coder is implemented by errors that know their exit code.
type Coder interface {
	ExitCode() int
}

// Err carries an exit code, the underlying error and an optional hint that
// tells the user what to do next.
type Err struct {
	Code int
	Err  error
	Hint string
}

func (e *Err) Error() string {
	if e.Err == nil {
		return e.Hint
	}
	return e.Err.Error()
}

func (e *Err) Unwrap() error { return e.Err }

// ExitCode implements Coder.
func (e *Err) ExitCode() int { return e.Code }

// New returns an error with the given code and a formatted message.
func New(code int, format string, args ...any) error {
	return &Err{Code: code, Err: fmt.Errorf(format, args...)}
}

// WithHint returns an error with the given code, wrapping err, and a hint.
func WithHint(code int, err error, hint string) error {
	return &Err{Code: code, Err: err, Hint: hint}
}

// Hint returns the first hint found in err's chain, or "".
func Hint(err error) string {
	for err != nil {
		if h, ok := err.(interface{ ExitHint() string }); ok && h.ExitHint() != "" {
			return h.ExitHint()
		}
		if e, ok := err.(*Err); ok && e.Hint != "" {
			return e.Hint
		}
		err = errors.Unwrap(err)
	}
	return ""
}

// Of maps an error to its exit code: nil is OK; the first Coder in the chain
// decides; a bare context deadline is a timeout and a bare cancellation an
// interrupt; anything else is Error.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Interrupted
	}
	return Error
}

// Silent marks an error whose message has already been shown to the user
// (for example as an NDJSON error event), so main only sets the exit code.
type Silent struct{ Err error }

func (s Silent) Error() string { return s.Err.Error() }
func (s Silent) Unwrap() error { return s.Err }

// IsSilent reports whether err was already reported.
func IsSilent(err error) bool {
	var s Silent
	return errors.As(err, &s)
}
