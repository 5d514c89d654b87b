package pgdump

import (
	"errors"
	"fmt"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// ErrUnsupported is matched (errors.Is) by errors about input that is well
// formed but beyond this reader: a newer archive version, another archive
// format or an unknown compression. A newer pg_restore may still read it.
var ErrUnsupported = errors.New("unsupported archive")

// malformed reports input that is not a valid archive at byte offset off.
// It is a BadInput error: the backup, not the program, is at fault.
func malformed(off int64, format string, args ...any) error {
	return exitcode.With(exitcode.BadInput,
		fmt.Errorf("offset %d: %s", off, fmt.Sprintf(format, args...)))
}

// unsupported reports valid input that this reader cannot handle.
func unsupported(format string, args ...any) error {
	return exitcode.With(exitcode.BadInput, &unsupportedError{msg: fmt.Sprintf(format, args...)})
}

type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string        { return e.msg }
func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupported }
