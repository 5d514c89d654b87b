package snapshot

import (
	"fmt"
	"strconv"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Where a read stopped, for error messages.
func inEntry(name string) string    { return "in entry " + strconv.Quote(name) }
func afterEntry(name string) string { return "after entry " + strconv.Quote(name) }

const beforeFirstEntry = "before the first entry"

// afterArchive names the bytes that follow a compressed archive, which
// are no entry of it.
const afterArchive = "(after the archive)"

// interrupted wraps a context error unchanged underneath, so exitcode.Of
// reports Interrupted.
func interrupted(path, where string, ctxErr error) error {
	return fmt.Errorf("reading backup %s stopped %s: %w", path, where, ctxErr)
}

func missingDump(path string) error {
	return exitcode.With(exitcode.BadInput,
		fmt.Errorf("backup %s has no db/db.backup: is it a Mendix full-snapshot backup?", path))
}

func ambiguousDump(path, first, second string) error {
	return exitcode.With(exitcode.BadInput,
		fmt.Errorf("backup %s holds two database dumps (%q and %q), so it is ambiguous which one to restore: download the backup again or create a new one",
			path, first, second))
}

// corrupt is the error for a gzip or tar stream that cannot be decoded.
func corrupt(path, where string, err error) error {
	return exitcode.With(exitcode.BadInput,
		fmt.Errorf("backup %s is truncated or corrupt (%s): %w; download it again", path, where, err))
}

func notATar(path string, err error) error {
	return exitcode.With(exitcode.BadInput,
		fmt.Errorf("backup %s is compressed but holds no tar archive (%w); %s", path, err, acceptedFormats))
}
