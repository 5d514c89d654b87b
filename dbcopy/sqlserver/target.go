// Package sqlserver is the SQL Server (and Azure SQL) target of dbcopy,
// registered for sqlserver:// and azuresql:// URLs
// (sqlserver://USER:PASS@HOST:PORT?database=DB).
//
// SQL Server cannot restore a pg_dump archive, so a load restores it into
// a staging PostgreSQL first: a throwaway cluster under Options.WorkDir,
// removed at the end, or the scratch database Options.Staging names
// (mxmigrate only replaces a schema there that it restored itself, and
// reuses a complete restore of the same backup). It reads the schema from
// the staging catalog (pgcatalog), maps the types (typemap) and loads in
// phases: tables, data (bulk copy, Options.Jobs tables at a time), primary
// keys, unique constraints, indexes, foreign keys, sequences.
//
// Rails: the target schema must be empty unless IfExists is "drop"; other
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
	// prepared is set once the staging database is restored, read and
	// checked; Preflight and Load share it.
	prepared *prepared
	loaded   bool
	closed   bool
}

// Open connects to the SQL Server database u names. It writes nothing.
func Open(ctx context.Context, u *url.URL, opts dbcopy.Options) (dbcopy.Target, error) {
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
	db.SetMaxOpenConns(jobs(opts) + 4) // copy jobs, the lock, state and DDL
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

// Close releases connections and the staging database. The staging data
// a given --staging database holds is dropped only after a complete load,
// so that an interrupted one can reuse it.
func (t *target) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	var errs []error
	if t.prepared != nil {
		errs = append(errs, t.prepared.stage.close(context.Background(), t.loaded))
	}
	errs = append(errs, t.db.Close())
	return errors.Join(errs...)
}

func jobs(opts dbcopy.Options) int {
	if opts.Jobs > 0 {
		return opts.Jobs
	}
	return 2
}
