package dbcopy

import (
	"errors"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// The refusals every target returns, for callers to test with errors.Is.
// Each carries its documented exit code, so exitcode.Of needs nothing else.
var (
	// ErrLockHeld: another run holds the target's migration lock (Lock
	// gave up after its wait). Exit code LockHeld.
	ErrLockHeld error = &exitcode.Error{Code: exitcode.LockHeld, Err: errors.New("another migration holds the target's lock")}
	// ErrPreflightRefused: a safety check refused to write to the target
	// (not empty, other sessions, ...). Exit code PreflightRefused.
	ErrPreflightRefused error = &exitcode.Error{Code: exitcode.PreflightRefused, Err: errors.New("a preflight check refused to write to the target")}
)

// LockHeld marks err, a target's own description of the held lock, as
// ErrLockHeld; its message stays err's.
func LockHeld(err error) error { return mark(err, ErrLockHeld) }

// PreflightRefused marks err, a target's description of the refusal, as
// ErrPreflightRefused; its message stays err's.
func PreflightRefused(err error) error { return mark(err, ErrPreflightRefused) }

func mark(err, sentinel error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, sentinel: sentinel}
}

// marked is err with a sentinel behind it. The sentinel comes first in
// Unwrap, so its exit code wins over any code err carries.
type marked struct{ err, sentinel error }

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.sentinel, m.err} }
