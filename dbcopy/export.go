package dbcopy

import (
	"context"
	"io"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
)

// Exporter is a target that can also be read back as a Mendix backup's
// database: its schema in PostgreSQL terms and its rows as COPY text. It is
// an optional interface of Target, found with a type assertion.
type Exporter interface {
	// BeginExport refuses, with ErrPreflightRefused, while other
	// sessions (the app) are connected, unless opts.AllowConnected; then
	// starts reading in one snapshot where the server offers it. The
	// caller holds the target's migration lock (Target.Lock) for the whole
	// export, so that no load writes meanwhile, and closes the session.
	BeginExport(ctx context.Context, opts ExportOptions) (ExportSession, error)
}

// ExportOptions steer an export.
type ExportOptions struct {
	// Jobs is how many tables may be read at once (CopyTable calls in
	// flight); default 2.
	Jobs int
	// AllowConnected exports although other sessions are connected.
	AllowConnected bool
	// Schema is the schema to read (default: public for PostgreSQL, dbo
	// for SQL Server).
	Schema string
}

// ExportSession reads one database for an export. Schema and CopyTable see
// the same data: one snapshot when Consistency says so.
type ExportSession interface {
	// Schema is the database's tables, keys, indexes and sequences with
	// PostgreSQL types (a SQL Server source maps its types back to the
	// ones Mendix uses on PostgreSQL, or fails naming the column).
	Schema() *ExportSchema
	// CopyTable writes the rows of table as PostgreSQL COPY text (columns
	// in the order of the schema's table, generated columns left out as
	// COPY leaves them out, rows ending in "\n", no end
	// marker), exactly as COPY ... TO STDOUT writes them, and returns the
	// number of rows. Safe to call from Jobs goroutines at once.
	CopyTable(ctx context.Context, table string, w io.Writer) (rows int64, err error)
	// Close ends the snapshot and releases connections. Safe to call more
	// than once.
	Close() error
}

// ExportSchema is a database's schema as an export writes it.
type ExportSchema struct {
	*pgcatalog.Schema
	// DatabaseName and ServerVersion go into the archive's header.
	DatabaseName  string
	ServerVersion string
	// DatabaseSize is the database's size on disk in bytes (Mendix's
	// databaseSize), 0 when unknown.
	DatabaseSize int64
	// SequenceOwners maps a sequence to the column that owns it (ALTER
	// SEQUENCE ... OWNED BY), for sequences that have one.
	SequenceOwners map[string]ColumnRef
	// Checks holds each table's CHECK constraints.
	Checks map[string][]NamedDefinition
	// Collations holds, per table and column, a collation other than the
	// type's default, as a quoted qualified name (pg_catalog."C").
	Collations map[string]map[string]string
	// Consistency says how the tables are read, for the log: e.g. "one
	// snapshot (REPEATABLE READ, read only)".
	Consistency string
}

// ColumnRef names a column of a table.
type ColumnRef struct {
	Table, Column string
}

// NamedDefinition is a constraint's name and its definition as
// pg_get_constraintdef prints it, e.g. CHECK ((quantity >= 0)).
type NamedDefinition struct {
	Name, Definition string
}
