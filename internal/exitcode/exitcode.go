// Package exitcode classifies errors into the process exit codes that
// mxmigrate documents, so that scripts and Kubernetes Jobs can tell a
// refused preflight from a failed verification without parsing messages.
package exitcode

import (
	"context"
	"errors"
)

// The documented exit codes. They are part of the command-line contract:
// never renumber them.
const (
	OK               = 0   // everything done and verified
	Failure          = 1   // an unexpected error (I/O, network, server)
	BadInput         = 2   // the backup, a URL or a flag is wrong: fix the input
	VerifyFailed     = 3   // the data moved but verification found a difference
	LockHeld         = 4   // another migration holds the target's lock
	PreflightRefused = 5   // a safety check refused to write to the target
	Interrupted      = 130 // stopped by Ctrl-C or SIGTERM; a rerun resumes
)

// Error attaches an exit code to an error without changing its message.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// With wraps err with code; a nil err stays nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Of returns the exit code for err: the innermost-first code attached with
// With, Interrupted for a cancelled context, Failure otherwise.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Failure
}

// Name is a short label for a code, used in reports.
func Name(code int) string {
	switch code {
	case OK:
		return "ok"
	case BadInput:
		return "bad-input"
	case VerifyFailed:
		return "verify-failed"
	case LockHeld:
		return "lock-held"
	case PreflightRefused:
		return "preflight-refused"
	case Interrupted:
		return "interrupted"
	default:
		return "failure"
	}
}
