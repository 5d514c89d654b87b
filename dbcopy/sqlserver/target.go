// Package sqlserver is the SQL Server (and Azure SQL) target of dbcopy.
//
// SQL Server cannot restore a pg_dump archive, so a load restores it into
// a staging PostgreSQL first (a throwaway cluster, or the database that
// --staging names), reads the schema from its catalog (pgcatalog), maps
// the types (typemap) and copies table by table: tables, then data in
// bulk, then keys, indexes and sequences. State kept in the target's
// [mxmigrate] schema lets a killed load resume.
package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"

	mssql "github.com/microsoft/go-mssqldb"

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
	connector, err := mssql.NewConnector(info.dsn)
	if err != nil {
		// The driver's message may quote the DSN's parameters: keep it out.
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--db %s: not a valid SQL Server connection URL", info.description))
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(jobs(opts) + 4) // copy jobs, the lock, state and DDL
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", info.description, err)
	}
	return &target{info: info, schema: schema, opts: opts, log: log, db: db}, nil
}

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
