// Package dbcopy moves the database of a Mendix backup into a target
// database. Each kind of target (PostgreSQL, SQL Server) lives in its own
// sub-package and registers itself by URL scheme, so adding a database is
// one new package and no switch statement grows.
package dbcopy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/internal/registry"
)

// Source is the database side of a backup as the pipeline hands it to a
// target: the dump on local disk plus what the pure-Go archive reader
// learned from it. It is plain data so that targets do not depend on the
// archive reader.
type Source struct {
	// DumpPath is a pg_dump custom-format archive on local disk (seekable,
	// so pg_restore -j can use it).
	DumpPath string
	// Fingerprint identifies this backup (a hash of the archive's header
	// and table of contents). Resume state is only trusted for the same
	// fingerprint.
	Fingerprint string
	// ArchiveVersion is the custom-format version, e.g. "1.14".
	ArchiveVersion string
	// MinRestoreMajor is the oldest pg_restore major version that reads
	// this archive.
	MinRestoreMajor int
	// ServerVersion and DumpVersion are the source server's and pg_dump's
	// versions as the archive states them.
	ServerVersion string
	DumpVersion   string
	// Schema is the schema the dump's objects live in (Mendix: "public").
	Schema      string
	Tables      []SourceTable
	Sequences   []SourceSequence
	Indexes     []SourceObject
	Constraints []SourceObject
}

// SourceTable is one table of the dump with its row count, counted from the
// dump's own data.
type SourceTable struct {
	Name string
	Rows int64
}

// SourceSequence is a sequence and the value setval() gives it in the dump.
type SourceSequence struct {
	Name     string
	Value    int64
	IsCalled bool
}

// NextValue is the value nextval() returns after the restore.
func (s SourceSequence) NextValue(increment int64) int64 {
	if increment == 0 {
		increment = 1
	}
	if s.IsCalled {
		return s.Value + increment
	}
	return s.Value
}

// SourceObject is an index or constraint of the dump, by its name and the
// table it belongs to.
type SourceObject struct {
	Table string
	Name  string
	// Kind is the dump's description: INDEX, CONSTRAINT, FK CONSTRAINT.
	Kind string
}

// Options steer a target. They are given once, to Open; zero values mean
// the documented defaults. An option the target has no use for (Loader for
// SQL Server, TypeMapFile for PostgreSQL) is refused by Open, naming its
// flag, rather than ignored.
type Options struct {
	// Jobs is how many tables are loaded at once (default 2).
	Jobs int
	// Loader chooses how a PostgreSQL target is restored: "native" (the
	// default: the archive is executed over the wire, no client binary
	// needed) or "pg_restore" (the local pg_restore).
	Loader string
	// IfExists says what to do with a non-empty target schema.
	IfExists IfExists
	// AllowConnected skips the refusal when other sessions are connected
	// to the target database.
	AllowConnected bool
	// Schema is the target schema (default: the source's, "public" for
	// PostgreSQL and "dbo" for SQL Server).
	Schema string
	// WorkDir holds temporary files.
	WorkDir string
	// TypeMapFile holds the user's type rules (SQL Server targets).
	TypeMapFile string
	// Log receives progress and decisions; never credentials.
	Log *slog.Logger
	// Progress, when set, is told how far the load has come.
	Progress Progress
}

// Check refuses options that no target accepts; Open calls it before its
// own checks.
func (o Options) Check() error {
	if !o.IfExists.valid() {
		return exitcode.With(exitcode.BadInput, fmt.Errorf("--%s: invalid value %d", cliflag.IfExists, int(o.IfExists)))
	}
	if o.Jobs < 0 {
		return exitcode.With(exitcode.BadInput, fmt.Errorf("--%s %d: must not be negative (0 is the default)", cliflag.Jobs, o.Jobs))
	}
	return nil
}

// Unused refuses an option that the target kind does not use, when it is
// set: set says whether it is, flag names it.
func Unused(kind string, set bool, flag string) error {
	if !set {
		return nil
	}
	return exitcode.With(exitcode.BadInput, fmt.Errorf("--%s does not apply to a %s target: leave it out", flag, kind))
}

// Progress receives load progress. Implementations must be safe for
// concurrent use.
type Progress interface {
	// Phase starts a named phase with a total (rows or items; 0 if unknown).
	Phase(name string, total int64)
	// Add reports n more units done in the current phase.
	Add(n int64)
}

// TableProgress is what a Progress may implement besides: the rows and
// bytes of each table as they load, for a display that shows a rate and
// time left. A target that knows them calls ReportRows; Add still counts
// the phase's units as before.
type TableProgress interface {
	// TableRows reports rows more rows of table loaded, bytes long (0 if
	// the target does not know the bytes).
	TableRows(table string, rows, bytes int64)
}

// ReportRows tells p about rows loaded into table, if p wants to know.
func ReportRows(p Progress, table string, rows, bytes int64) {
	if tp, ok := p.(TableProgress); ok {
		tp.TableRows(table, rows, bytes)
	}
}

// Check is one preflight check's outcome.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Warn   bool   `json:"warn,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// PreflightResult is what Preflight found. It never includes credentials.
type PreflightResult struct {
	Checks []Check `json:"checks"`
	// ToDrop lists the objects that --if-exists drop would remove.
	ToDrop []string `json:"toDrop,omitempty"`
	// AlreadyDone is true when an earlier run loaded this same backup
	// (same fingerprint) completely: Load has nothing left to do.
	AlreadyDone bool `json:"alreadyDone"`
	// Resumable is true when an earlier run of this same backup was
	// interrupted and Load will continue it.
	Resumable bool `json:"resumable"`
}

// Inventory is what a target holds now, for verification.
type Inventory struct {
	// Tables maps a table name (unqualified, as in the dump) to its rows.
	Tables map[string]int64
	// Sequences maps a sequence name to the value nextval() would return.
	Sequences map[string]int64
	// Indexes and Constraints hold the names present, keyed "table.name".
	Indexes     map[string]bool
	Constraints map[string]bool
}

// Target is a database that mxmigrate writes a backup into.
//
// The pipeline calls, in order: Lock, Preflight, Load (unless AlreadyDone),
// Inventory, and Close, all with the Options given to Open. Every method
// honours ctx: when it is cancelled the method returns promptly, leaving
// state that a later Load resumes. A server that does not answer is an
// error with exit code Failure, whichever method meets it first.
// dbcopytest is the contract every target passes.
type Target interface {
	// String describes the target for logs and reports, without
	// credentials.
	String() string
	// Lock takes the target-wide migration lock and holds it until unlock
	// is called or the process dies (so a killed run never leaves it
	// taken). If another run holds it, Lock waits up to wait and then
	// returns an error that is ErrLockHeld. Not safe to call twice.
	Lock(ctx context.Context, wait time.Duration) (unlock func(), err error)
	// Preflight checks, without writing anything, that the load may go
	// ahead. A refusal is returned as an error that is
	// ErrPreflightRefused, together with the result that explains it.
	Preflight(ctx context.Context, src *Source) (*PreflightResult, error)
	// Load writes src into the target, dropping existing objects first
	// when Options.IfExists is IfExistsDrop, and resuming what an
	// interrupted run of the same backup left behind. It is idempotent:
	// after a complete load it does nothing. It must be called with the
	// lock held.
	Load(ctx context.Context, src *Source) error
	// Inventory reads what the target holds in the migrated schema.
	Inventory(ctx context.Context) (*Inventory, error)
	// ScanTable streams the rows of table ordered by its primary key (or
	// all columns when it has none), converting each value to a Go value
	// (nil, int64, float64, string, []byte, bool, time.Time, or a decimal
	// as string). fn must not keep the slice.
	ScanTable(ctx context.Context, table string, columns []string, fn func(values []any) error) error
	// Close releases connections. Safe to call more than once.
	Close() error
}

// Opener connects to the target a URL names, checking opts (Options.Check
// and the options the target does not use). It must not write.
type Opener func(ctx context.Context, u *url.URL, opts Options) (Target, error)

var targets registry.Registry[Opener]

// Register makes a target available under the URL schemes given. It is
// meant to be called from an init function and panics on a duplicate, which
// is a programming error.
func Register(open Opener, schemes ...string) { targets.Register(open, schemes...) }

// Schemes lists the registered URL schemes, sorted.
func Schemes() []string { return targets.Schemes() }

// Open connects to the target that rawURL names.
func Open(ctx context.Context, rawURL string, opts Options) (Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse quotes the whole URL in its error: never show it, it
		// may hold a password.
		return nil, exitcode.With(exitcode.BadInput, errors.New("--db: not a valid URL (expected e.g. postgres://user@host:5432/db)"))
	}
	open, ok := targets.Lookup(u.Scheme)
	if !ok {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--db: unsupported scheme %q (supported: %s)", u.Scheme, strings.Join(Schemes(), ", ")))
	}
	if err := opts.Check(); err != nil {
		return nil, err
	}
	return open(ctx, u, opts)
}

// Redact returns u as text with its credentials replaced, for logs and
// reports.
func Redact(u *url.URL) string { return redact.URL(u.String()) }
