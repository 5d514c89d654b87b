package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Application names of our own sessions. The session check ignores every
// name with the prefix appName; restoreAppName marks pg_restore's sessions,
// which a rerun ends when a killed run left them behind.
const (
	appName        = "mxmigrate"
	restoreAppName = "mxmigrate-restore"
)

const defaultJobs = cliflag.DefaultJobs

func init() {
	dbcopy.Register(Open, "postgres", "postgresql")
}

// Target is a PostgreSQL database that a backup is restored into.
type Target struct {
	url    *url.URL
	cfg    *pgx.ConnConfig
	opts   dbcopy.Options
	log    *slog.Logger
	schema string

	mu       sync.Mutex
	lockConn *pgx.Conn // the connection holding the advisory lock, if held
	unlock   func()

	// counted holds the row counts the native loader took of the tables
	// it loaded, each once the table's data and indexes were in, so that
	// Inventory need not count them again (native_sched.go, doc.go).
	countedMu sync.Mutex
	counted   map[string]int64
}

// recordCount keeps a table's row count, counted during the load.
func (t *Target) recordCount(table string, rows int64) {
	t.countedMu.Lock()
	defer t.countedMu.Unlock()
	if t.counted == nil {
		t.counted = map[string]int64{}
	}
	t.counted[table] = rows
}

// takeCounts hands over the counts taken during the load, once: a later
// Inventory counts everything again.
func (t *Target) takeCounts() map[string]int64 {
	t.countedMu.Lock()
	defer t.countedMu.Unlock()
	c := t.counted
	t.counted = nil
	return c
}

var _ dbcopy.Target = (*Target)(nil)

// Open parses the URL, checks opts and prepares connections; it connects
// to nothing (Lock and Preflight meet an unreachable server).
func Open(_ context.Context, u *url.URL, opts dbcopy.Options) (dbcopy.Target, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if err := dbcopy.Unused("PostgreSQL", opts.TypeMapFile != "", cliflag.TypeMap); err != nil {
		return nil, err
	}
	switch opts.Loader {
	case "", LoaderNative, LoaderPgRestore:
	default:
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--%s %q: expected %s or %s", cliflag.Loader, opts.Loader, LoaderNative, LoaderPgRestore))
	}
	if u.Path == "" || u.Path == "/" {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--db %s: name the database (postgres://user@host:5432/DB)", dbcopy.Redact(u)))
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		// pgx's parse errors can quote the connection string: never show them.
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--db %s: not a valid PostgreSQL URL", dbcopy.Redact(u)))
	}
	cfg.RuntimeParams["application_name"] = appName
	// Qualify everything: with only pg_catalog on the path, regclass and
	// regprocedure print schema-qualified names, which the drop statements
	// rely on.
	cfg.RuntimeParams["search_path"] = "pg_catalog"
	// A role's statement_timeout must not cut a count(*) of a big table.
	cfg.RuntimeParams["statement_timeout"] = "0"
	// A cancelled context asks the server to cancel the statement before
	// the socket is closed: a backend waiting on a lock (or busy in a long
	// COPY or index build) would otherwise go on, unseen, after the run is
	// gone, holding what it locked.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 5 * time.Second}
	}
	if opts.Jobs <= 0 {
		opts.Jobs = defaultJobs
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := *u
	t := &Target{url: &c, cfg: cfg, opts: opts, log: log, schema: opts.Schema}
	if t.schema == "" {
		t.schema = "public"
	}
	return t, nil
}

// String is the target's URL without its password.
func (t *Target) String() string { return dbcopy.Redact(t.url) }

// database is the target database's name.
func (t *Target) database() string { return t.cfg.Database }

// connect opens a new connection; the caller closes it.
func (t *Target) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, t.cfg.Copy())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("connect to %s: %w", t, err)
	}
	return conn, nil
}

// resolveSchema decides the target schema for src. pg_restore puts objects
// where the dump says, so another target schema cannot be honoured.
func (t *Target) resolveSchema(src *dbcopy.Source) error {
	want := src.Schema
	if want == "" {
		want = "public"
	}
	asked := t.opts.Schema
	if asked != "" && asked != want {
		return exitcode.With(exitcode.BadInput, fmt.Errorf("schema %q: a PostgreSQL target restores into the dump's own schema %q", asked, want))
	}
	t.schema = want
	return nil
}

// Close releases the lock, if still held, and its connection. Safe to call
// more than once.
func (t *Target) Close() error {
	t.mu.Lock()
	unlock := t.unlock
	t.mu.Unlock()
	if unlock != nil {
		unlock()
	}
	return nil
}

// closeQuietly closes conn without waiting on a cancelled ctx.
func closeQuietly(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}

// interrupted turns a context error into the exit code the CLI documents,
// and leaves other errors alone.
func interrupted(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
