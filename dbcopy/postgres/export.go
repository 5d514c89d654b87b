package postgres

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
)

var _ dbcopy.Exporter = (*Target)(nil)

// BeginExport reads the database the way pg_dump -j does: one REPEATABLE
// READ, READ ONLY transaction exports its snapshot, and every connection
// that copies a table joins that snapshot (SET TRANSACTION SNAPSHOT), so
// that all tables are read as of one instant while several are read at
// once.
func (t *Target) BeginExport(ctx context.Context, opts dbcopy.ExportOptions) (dbcopy.ExportSession, error) {
	if opts.Jobs <= 0 {
		opts.Jobs = defaultJobs
	}
	schema := opts.Schema
	if schema == "" {
		schema = t.schema
	}
	conn, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	s := &exportSession{t: t, main: conn, schemaName: schema, conns: make(chan *pgx.Conn, opts.Jobs), jobs: opts.Jobs}
	if err := s.begin(ctx, opts); err != nil {
		s.Close()
		return nil, interrupted(ctx, err)
	}
	return s, nil
}

type exportSession struct {
	t          *Target
	main       *pgx.Conn // holds the exported snapshot until Close
	schemaName string
	snapshot   string
	schema     *dbcopy.ExportSchema

	jobs  int
	conns chan *pgx.Conn // idle connections in the snapshot
	mu    sync.Mutex
	all   []*pgx.Conn
	done  bool
}

func (s *exportSession) begin(ctx context.Context, opts dbcopy.ExportOptions) error {
	c := &checklist{res: &dbcopy.PreflightResult{}}
	if err := s.t.checkSessionsAllowing(ctx, c, s.main, opts.AllowConnected); err != nil {
		return err
	}
	for _, ch := range c.res.Checks {
		if ch.Warn {
			s.t.log.Warn("exporting while other sessions are connected", "detail", ch.Detail)
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	if _, err := s.main.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return fmt.Errorf("start the export's transaction on %s: %w", s.t, err)
	}
	if err := s.main.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&s.snapshot); err != nil {
		return fmt.Errorf("export the snapshot on %s: %w", s.t, err)
	}
	cat, err := pgcatalog.Read(ctx, s.main, s.schemaName)
	if err != nil {
		return err
	}
	if len(cat.Tables) == 0 {
		return fmt.Errorf("%s: schema %q has no tables to export", s.t, s.schemaName)
	}
	es := &dbcopy.ExportSchema{Schema: cat, SequenceOwners: map[string]dbcopy.ColumnRef{},
		Consistency: "one snapshot (REPEATABLE READ, read only, shared by every connection)"}
	if err := s.main.QueryRow(ctx, `SELECT current_database()::text, current_setting('server_version'), pg_database_size(current_database())`).
		Scan(&es.DatabaseName, &es.ServerVersion, &es.DatabaseSize); err != nil {
		return fmt.Errorf("read the database's name and size on %s: %w", s.t, err)
	}
	rows, err := s.main.Query(ctx, `
SELECT s.relname::text, t.relname::text, a.attname::text
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_namespace n ON n.oid = s.relnamespace
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND n.nspname = $1`, s.schemaName)
	if err != nil {
		return fmt.Errorf("read the sequences' owners on %s: %w", s.t, err)
	}
	var seq, table, column string
	if _, err := pgx.ForEachRow(rows, []any{&seq, &table, &column}, func() error {
		es.SequenceOwners[seq] = dbcopy.ColumnRef{Table: table, Column: column}
		return nil
	}); err != nil {
		return fmt.Errorf("read the sequences' owners on %s: %w", s.t, err)
	}
	if err := readChecksAndCollations(ctx, s.main, s.schemaName, es); err != nil {
		return fmt.Errorf("%s: %w", s.t, err)
	}
	s.schema = es
	return nil
}

// readChecksAndCollations reads what pgcatalog leaves out and a dump must
// keep: CHECK constraints and columns' non-default collations.
func readChecksAndCollations(ctx context.Context, conn *pgx.Conn, schema string, es *dbcopy.ExportSchema) error {
	es.Checks = map[string][]dbcopy.NamedDefinition{}
	es.Collations = map[string]map[string]string{}
	rows, err := conn.Query(ctx, `
SELECT c.relname::text, con.conname::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND con.contype = 'c' AND c.relkind IN ('r', 'p')
ORDER BY c.relname, con.conname`, schema)
	if err != nil {
		return fmt.Errorf("read check constraints: %w", err)
	}
	var table, name, def string
	if _, err := pgx.ForEachRow(rows, []any{&table, &name, &def}, func() error {
		es.Checks[table] = append(es.Checks[table], dbcopy.NamedDefinition{Name: name, Definition: def})
		return nil
	}); err != nil {
		return fmt.Errorf("read check constraints: %w", err)
	}
	rows, err = conn.Query(ctx, `
SELECT c.relname::text, a.attname::text, quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_collation co ON co.oid = a.attcollation
JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attcollation <> 0 AND a.attcollation <> t.typcollation`, schema)
	if err != nil {
		return fmt.Errorf("read column collations: %w", err)
	}
	var column, collation string
	if _, err := pgx.ForEachRow(rows, []any{&table, &column, &collation}, func() error {
		if es.Collations[table] == nil {
			es.Collations[table] = map[string]string{}
		}
		es.Collations[table][column] = collation
		return nil
	}); err != nil {
		return fmt.Errorf("read column collations: %w", err)
	}
	return nil
}

func (s *exportSession) Schema() *dbcopy.ExportSchema { return s.schema }

// CopyTable runs COPY ... TO STDOUT on a connection in the export's
// snapshot: the server writes the text, so it is exactly what pg_dump
// stores.
func (s *exportSession) CopyTable(ctx context.Context, table string, w io.Writer) (int64, error) {
	t := s.schema.Table(table)
	if t == nil {
		return 0, fmt.Errorf("%s: no table %q in schema %q", s.t, table, s.schemaName)
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, c := range t.Columns {
		if c.Generated == "" { // COPY cannot write them, pg_dump leaves them out
			names = append(names, pgx.Identifier{c.Name}.Sanitize())
		}
	}
	sql := fmt.Sprintf("COPY %s (%s) TO STDOUT", pgx.Identifier{s.schemaName, table}.Sanitize(), joinComma(names))
	tag, err := conn.PgConn().CopyTo(ctx, w, sql)
	if err != nil {
		// The connection may be mid-COPY: do not reuse it.
		closeQuietly(conn)
		return 0, interrupted(ctx, fmt.Errorf("copy table %s from %s: %w", table, s.t, err))
	}
	s.conns <- conn
	return tag.RowsAffected(), nil
}

// acquire returns an idle connection in the snapshot, opening one when
// fewer than jobs are open.
func (s *exportSession) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	default:
	}
	s.mu.Lock()
	open := len(s.all) < s.jobs
	s.mu.Unlock()
	if !open {
		select {
		case c := <-s.conns:
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	conn, err := s.t.connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		closeQuietly(conn)
		return nil, fmt.Errorf("start a copy transaction on %s: %w", s.t, err)
	}
	if _, err := conn.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(s.snapshot)); err != nil {
		closeQuietly(conn)
		return nil, fmt.Errorf("join the export's snapshot on %s: %w", s.t, err)
	}
	s.mu.Lock()
	s.all = append(s.all, conn)
	s.mu.Unlock()
	return conn, nil
}

// Close ends every transaction (read only: nothing to keep) and closes the
// connections.
func (s *exportSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil
	}
	s.done = true
	for _, c := range s.all {
		closeQuietly(c)
	}
	closeQuietly(s.main)
	return nil
}

func joinComma(items []string) string {
	out := ""
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
