package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// Loader names, as --loader takes them.
const (
	LoaderNative    = "native"
	LoaderPgRestore = "pg_restore"
)

// Test hooks: a smaller split threshold and chunk size, and splitting
// tables that have indexes to build (doc.go says why the loader does not),
// force splitting on small fixtures; partCommitted lets a test stop a load
// between the commits of a split table's parts.
var (
	splitMinBytes      int64 = 4 << 20
	chunkBytes               = defaultChunkSize
	splitIndexedTables       = false
	partCommitted            = func(*pgdump.Entry) {}
)

// createMarksSQL holds the tables whose data is complete: the native
// loader records a table in the transaction that loads it (or, for a table
// split across connections, once every part has committed).
const createMarksSQL = `
CREATE SCHEMA IF NOT EXISTS mxmigrate;
CREATE TABLE IF NOT EXISTS mxmigrate.loaded_table (
	target_schema text NOT NULL,
	fingerprint   text NOT NULL,
	dump_id       integer NOT NULL,
	table_name    text NOT NULL,
	loaded_at     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (target_schema, fingerprint, dump_id)
)`

const insertMarkSQL = `INSERT INTO mxmigrate.loaded_table (target_schema, fingerprint, dump_id, table_name)
VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`

// nativeLoad restores the archive over pgx, without pg_restore.
type nativeLoad struct {
	l      *loader
	af     *pgdump.ArchiveFile
	plan   *nativePlan
	server int // the target's server_version_num
	// fresh is true once this run has created the tables: they are empty
	// and nothing references them yet.
	fresh bool
	// dataSize is each data entry's compressed size, for priorities.
	dataSize map[int]int64
}

func newNativeLoad(ctx context.Context, l *loader) (*nativeLoad, error) {
	af, err := pgdump.Open(l.src.DumpPath)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("read the dump: %w", err))
	}
	plan, err := buildPlan(af.Archive)
	if err != nil {
		af.Close()
		return nil, err
	}
	info, err := os.Stat(l.src.DumpPath)
	if err != nil {
		af.Close()
		return nil, err
	}
	n := &nativeLoad{l: l, af: af, plan: plan, dataSize: dataSizes(af, info.Size())}
	if err := l.conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&n.server); err != nil {
		af.Close()
		return nil, fmt.Errorf("read the server version: %w", err)
	}
	return n, nil
}

func (n *nativeLoad) close() { n.af.Close() }

// dataSizes estimates each data block's size from the gaps between their
// offsets (0 when pg_dump could not record offsets).
func dataSizes(af *pgdump.ArchiveFile, end int64) map[int]int64 {
	type block struct {
		id  int
		off int64
	}
	var blocks []block
	for i := range af.Entries {
		if e := &af.Entries[i]; e.HasDataOffset {
			blocks = append(blocks, block{e.DumpID, e.DataOffset})
		}
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].off < blocks[j].off })
	sizes := make(map[int]int64, len(blocks))
	for i := len(blocks) - 1; i >= 0; i-- {
		sizes[blocks[i].id] = max(end-blocks[i].off, 0)
		end = blocks[i].off
	}
	return sizes
}

// connect opens a connection for restoring: named like pg_restore's (so a
// rerun ends what a killed run left), set up as pg_restore sets up its
// sessions, plus the speed-ups of doc.go.
func (n *nativeLoad) connect(ctx context.Context, extra ...string) (*loadConn, error) {
	cfg := n.l.t.cfg.Copy()
	cfg.RuntimeParams["application_name"] = restoreAppName
	// The archive's SEARCHPATH entry sets the path; an old archive without
	// one expects the server's default, as pg_restore's sessions have.
	delete(cfg.RuntimeParams, "search_path")
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("connect to %s: %w", n.l.t, err)
	}
	settings := append([]string{"SET synchronous_commit = off"}, extra...)
	if _, err := conn.PgConn().Exec(ctx, n.plan.session.sql(n.server, settings)).ReadAll(); err != nil {
		closeQuietly(conn)
		return nil, interrupted(ctx, fmt.Errorf("set up a session on %s: %w", n.l.t, err))
	}
	return &loadConn{conn: conn, n: n}, nil
}

// loadConn is one restoring connection and the per-entry settings it has.
type loadConn struct {
	conn    *pgx.Conn
	n       *nativeLoad
	schema  string // search_path set for old archives, which lack SEARCHPATH
	tableAM string
	// serialIndexes: max_parallel_maintenance_workers is 0 on this session.
	serialIndexes bool
}

func (c *loadConn) close() { closeQuietly(c.conn) }

func (c *loadConn) exec(ctx context.Context, sql string) error {
	_, err := c.conn.PgConn().Exec(ctx, sql).ReadAll()
	return err
}

// prepare sets what pg_restore's _selectOutputSchema and
// _selectTableAccessMethod set before an entry.
func (c *loadConn) prepare(ctx context.Context, e *pgdump.Entry) error {
	if c.n.plan.session.searchPath == "" && e.Namespace != "" && e.Namespace != c.schema {
		path := quoteIdent(e.Namespace)
		if e.Namespace != "pg_catalog" {
			path += ", pg_catalog"
		}
		if err := c.exec(ctx, "SET search_path = "+path); err != nil {
			return entryError(e, err, "SET search_path = "+path)
		}
		c.schema = e.Namespace
	}
	if e.TableAM != "" && e.TableAM != c.tableAM {
		stmt := "SET default_table_access_method = " + quoteIdent(e.TableAM)
		if err := c.exec(ctx, stmt); err != nil {
			return entryError(e, err, stmt)
		}
		c.tableAM = e.TableAM
	}
	return nil
}

// runSQL executes an entry that is a definition: pg_restore's
// _printTocEntry with --no-owner, one simple query per entry.
func (c *loadConn) runSQL(ctx context.Context, pe planEntry) error {
	e := pe.e
	stmt := e.Defn
	switch pe.act {
	case actWarning:
		c.n.l.t.log.Warn("warning from the original dump", "entry", e.String(), "text", strings.TrimSpace(e.Defn))
		return nil
	case actSchema:
		if !strings.HasPrefix(e.Defn, "--") {
			// As pg_restore -O: without the AUTHORIZATION old dumps add.
			stmt = "CREATE SCHEMA " + quoteIdent(e.Tag) + ";"
		}
	case actBlob:
		oids, err := blobOIDs(e)
		if err != nil {
			return err
		}
		// lo_create of each, unless an interrupted pre-data made it:
		// large objects live outside the schema that a rerun empties.
		var b strings.Builder
		for _, oid := range oids {
			fmt.Fprintf(&b, "SELECT pg_catalog.lo_create('%d') WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_largeobject_metadata WHERE oid = '%d');\n", oid, oid)
		}
		stmt = b.String()
	}
	if strings.TrimSpace(stmt) == "" {
		return nil
	}
	if err := c.prepare(ctx, e); err != nil {
		return err
	}
	if err := c.exec(ctx, stmt); err != nil {
		return entryError(e, err, stmt)
	}
	return nil
}

// entryError names the entry and quotes the statement, like pg_restore's
// "Error from TOC entry ...; Command was: ...".
func entryError(e *pgdump.Entry, err error, stmt string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		detail := pgErr.Message
		if pgErr.Detail != "" {
			detail += " (" + pgErr.Detail + ")"
		}
		return fmt.Errorf("%s: %s: %s; the statement was: %s", e, pgErr.Severity, detail, abbreviate(stmt, 300))
	}
	return fmt.Errorf("%s: %w", e, err)
}

func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// preData empties the schema and runs the pre-data entries in archive
// order on one connection, as pg_restore does.
func (n *nativeLoad) preData(ctx context.Context) error {
	l := n.l
	if err := l.t.dropObjects(ctx, l.conn, l.t.schema); err != nil {
		return err
	}
	if err := n.clearMarks(ctx); err != nil {
		return err
	}
	existing, err := existingSchemas(ctx, l)
	if err != nil {
		return err
	}
	var run []planEntry
	for _, pe := range n.plan.preData {
		switch {
		case pe.act == actSchema && existing[pe.e.Tag]:
			continue // we never drop schemas; CREATE SCHEMA would fail
		case pe.act == actComment && strings.HasPrefix(pe.e.Tag, "EXTENSION "):
			continue // only the extension's owner may comment on it, and no app reads it
		case pe.act == actTableData || pe.act == actBlobData:
			return fmt.Errorf("%s: data in the pre-data section", pe.e)
		}
		run = append(run, pe)
	}
	l.t.log.Info("restoring", "section", phasePreData, "items", len(run), "skipped", len(n.plan.preData)-len(run))
	progress := newItemProgress(l.opts.Progress, phasePreData, int64(len(run)))
	c, err := n.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	for _, pe := range run {
		if err := c.runSQL(ctx, pe); err != nil {
			return interrupted(ctx, err)
		}
		progress.add(1)
	}
	n.fresh = true
	return nil
}

// clearMarks forgets the loaded tables of earlier loads into this schema.
func (n *nativeLoad) clearMarks(ctx context.Context) error {
	l := n.l
	if _, err := l.conn.Exec(ctx, createMarksSQL); err != nil {
		return fmt.Errorf("create mxmigrate.loaded_table: %w", err)
	}
	if _, err := l.conn.Exec(ctx, "DELETE FROM mxmigrate.loaded_table WHERE target_schema = $1", l.t.schema); err != nil {
		return fmt.Errorf("clear mxmigrate.loaded_table: %w", err)
	}
	return nil
}

// loadedTables reads the marks of this backup's complete tables.
func (n *nativeLoad) loadedTables(ctx context.Context) (map[int]bool, error) {
	l := n.l
	if _, err := l.conn.Exec(ctx, createMarksSQL); err != nil {
		return nil, fmt.Errorf("create mxmigrate.loaded_table: %w", err)
	}
	rows, err := l.conn.Query(ctx, "SELECT dump_id FROM mxmigrate.loaded_table WHERE target_schema = $1 AND fingerprint = $2",
		l.t.schema, l.src.Fingerprint)
	if err != nil {
		return nil, fmt.Errorf("read mxmigrate.loaded_table: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("read mxmigrate.loaded_table: %w", err)
	}
	done := make(map[int]bool, len(ids))
	for _, id := range ids {
		done[int(id)] = true
	}
	return done, nil
}

// mark records a table as complete on conn, inside the caller's
// transaction if it has one.
func (n *nativeLoad) mark(ctx context.Context, conn *pgx.Conn, e *pgdump.Entry) error {
	if _, err := conn.Exec(ctx, insertMarkSQL, n.l.t.schema, n.l.src.Fingerprint, e.DumpID, e.Tag); err != nil {
		return fmt.Errorf("%s: record it as loaded: %w", e, err)
	}
	return nil
}

// relKinds reads the kind of every table in the target ('r' plain, 'p'
// partitioned, ...), keyed "schema\x00name".
func (n *nativeLoad) relKinds(ctx context.Context) (map[string]byte, error) {
	rows, err := n.l.conn.Query(ctx, `SELECT n.nspname::text, c.relname::text, c.relkind::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'f')`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	kinds := map[string]byte{}
	for rows.Next() {
		var schema, name, kind string
		if err := rows.Scan(&schema, &name, &kind); err != nil {
			return nil, err
		}
		kinds[schema+"\x00"+name] = kind[0]
	}
	return kinds, rows.Err()
}

// itemProgress reports items done to a dbcopy.Progress, if any.
type itemProgress struct{ p dbcopy.Progress }

func newItemProgress(p dbcopy.Progress, phase string, total int64) itemProgress {
	if p != nil {
		p.Phase(phase, total)
	}
	return itemProgress{p}
}

func (ip itemProgress) add(n int64) {
	if ip.p != nil {
		ip.p.Add(n)
	}
}
