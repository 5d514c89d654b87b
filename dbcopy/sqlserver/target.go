// Package sqlserver is the SQL Server (and Azure SQL) target of dbcopy,
// registered for sqlserver:// and azuresql:// URLs
// (sqlserver://USER:PASS@HOST:PORT?database=DB).
//
// A load goes straight from the pg_dump archive on local disk: the schema
// comes from the dump's own SQL (pgcatalog.FromArchive), the types are
// mapped (typemap), and each table's COPY data is read from the archive
// (snapshot/pgdump), converted field by field from its text form and
// bulk-copied. No PostgreSQL server or tool is involved. It creates the
// tables, then copies the data and builds the keys with at most
// Options.Jobs statements running at a time in all: bulk copies largest
// table first (a table larger than a job's share of the data is sent in
// stripes over several concurrent TABLOCK bulk loads into its heap);
// each table's primary key, unique constraints and indexes, one after
// another, as soon as its data is in; each foreign key once both its
// tables have their keys. Sequences come last.
//
// Two PostgreSQL rules SQL Server lacks are kept: a unique constraint over
// nullable columns becomes a unique index filtered to rows without a NULL
// in the key (PostgreSQL's NULLs never collide; a key declared NULLS NOT
// DISTINCT has SQL Server's own rule and stays unfiltered), and foreign key actions
// SQL Server refuses (multiple cascade paths, cycles) become NO ACTION,
// each change listed in the plan, the log and the preflight's checks.
//
// Rails: the target schema must be empty unless IfExists is IfExistsDrop; other
// sessions on the database refuse the load unless AllowConnected; an
// exclusive session-owned sp_getapplock serialises runs; unique keys that
// the database's collation would merge (case, accents, trailing spaces)
// refuse the load before anything is written. Progress is kept in the
// [mxmigrate] schema of the target database ([load], [load_table]): a
// killed load resumes, recopying (after TRUNCATE) only the tables it had
// not finished and creating only the objects that are missing; a complete
// load of the same backup is not repeated.
//
// Sign-in: a SQL login, or Microsoft Entra ID through go-mssqldb's
// azuread package when the URL has fedauth= (see parseURL); Inventory needs SQL Server 2017 or later (sys.sequences.last_used_value).
package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func init() {
	dbcopy.Register(Open, "sqlserver", "azuresql")
}

// DefaultSchema is the target schema unless Options.Schema names another.
const DefaultSchema = "dbo"

// stateSchema holds mxmigrate's own bookkeeping in the target database.
const stateSchema = "mxmigrate"

type target struct {
	info   connInfo
	schema string
	opts   dbcopy.Options
	log    *slog.Logger
	db     *sql.DB

	mu sync.Mutex
	// prepared is set once the dump's schema is read and checked;
	// Preflight and Load share it.
	prepared *prepared
	loaded   bool
	closed   bool
}

// Open checks opts and connects to the SQL Server database u names. It
// writes nothing.
func Open(ctx context.Context, u *url.URL, opts dbcopy.Options) (dbcopy.Target, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	// Only PostgreSQL targets choose a loader.
	if err := dbcopy.Unused("SQL Server", opts.Loader != "", cliflag.Loader); err != nil {
		return nil, err
	}
	info, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	schema := opts.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	if schema == stateSchema {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--schema %s is where mxmigrate keeps its own state: choose another", stateSchema))
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	connector, err := newConnector(info)
	if err != nil {
		// The driver's message may quote the DSN's parameters: keep it out.
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--db %s: not a valid SQL Server connection URL", info.description))
	}
	log.Info("signing in to SQL Server", "target", info.description, "identity", info.identity)
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(2*jobs(opts) + 4) // copy streams (a large table may take several), the lock, state and DDL
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", info.description, err)
	}
	return &target{info: info, schema: schema, opts: opts, log: log, db: db}, nil
}

// Identity says who the target signs in as (SQL login or Entra ID flow).
func (t *target) Identity() string { return t.info.identity }

func (t *target) String() string {
	return t.info.description + " schema " + t.schema
}

// Close releases connections and the dump.
func (t *target) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	return errors.Join(t.prepared.close(), t.db.Close())
}

func jobs(opts dbcopy.Options) int {
	if opts.Jobs > 0 {
		return opts.Jobs
	}
	return 2
}
