package sqlserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
	mssql "github.com/microsoft/go-mssqldb"
	"golang.org/x/sync/errgroup"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/typemap"
)

const (
	// fetchRows is how many rows one FETCH takes from the staging cursor.
	fetchRows = 5000
	// batchRows is how many rows one bulk copy sends before it completes
	// (each completed bulk copy is committed on its own).
	batchRows = 100_000
	// progressEvery bounds how often a copy reports progress.
	progressEvery = 10_000
)

// copyTables copies every table not done yet, opts.Jobs at a time,
// largest first so the last ones to finish are small.
func (t *target) copyTables(ctx context.Context, p *prepared, src *dbcopy.Source, jobs int, progress dbcopy.Progress) error {
	statuses, err := tableStatuses(ctx, t.db, t.schema)
	if err != nil {
		return err
	}
	rows := map[string]int64{}
	for _, st := range src.Tables {
		rows[st.Name] = st.Rows
	}
	var todo []*plannedTable
	var total int64
	for _, pt := range p.plan.Tables {
		if statuses[pt.Source.Name] == statusDone {
			continue
		}
		todo = append(todo, pt)
		total += rows[pt.Source.Name]
	}
	sort.SliceStable(todo, func(i, j int) bool { return rows[todo[i].Source.Name] > rows[todo[j].Source.Name] })
	progress.Phase("data", total)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, pt := range todo {
		g.Go(func() error { return t.copyTable(gctx, p, pt, progress) })
	}
	return g.Wait()
}

// copyTable copies one table from scratch: rows an interrupted copy left
// are truncated first, since bulk copy batches commit one by one.
func (t *target) copyTable(ctx context.Context, p *prepared, pt *plannedTable, progress dbcopy.Progress) error {
	name := pt.Source.Name
	if err := setTableStatus(ctx, t.db, t.schema, name, statusCopying, 0); err != nil {
		return err
	}
	if _, err := t.db.ExecContext(ctx, "TRUNCATE TABLE "+qualified(t.schema, name)); err != nil {
		return fmt.Errorf("truncate %s: %w", qualified(t.schema, name), err)
	}
	pg, err := p.stage.connect(ctx)
	if err != nil {
		return err
	}
	defer pg.Close(context.Background())
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return err
	}
	sink := newBulkSink(conn, qualified(t.schema, name), pt.Map)
	var sinceReport int64
	n, err := streamTable(ctx, pg, p.stage.schema, pt.Map, func(row []any) error {
		if err := sink.Write(ctx, row); err != nil {
			return err
		}
		if sinceReport++; sinceReport == progressEvery {
			progress.Add(sinceReport)
			sinceReport = 0
		}
		return nil
	})
	if err == nil {
		err = sink.Flush(ctx)
	}
	progress.Add(sinceReport)
	if err != nil {
		sink.discard()
		return fmt.Errorf("copy table %q: %w", name, err)
	}
	if err := conn.Close(); err != nil {
		return err
	}
	t.log.Info("copied table", "table", name, "rows", n)
	return setTableStatus(ctx, t.db, t.schema, name, statusDone, n)
}

// streamTable reads a table through a server-side cursor, FETCH by FETCH,
// and hands each row, converted for SQL Server, to fn. fn must not keep
// the slice. It returns the number of rows.
func streamTable(ctx context.Context, conn *pgx.Conn, schema string, m *typemap.Table, fn func(row []any) error) (int64, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "DECLARE mxmigrate_copy NO SCROLL CURSOR FOR "+selectQuery(schema, m)); err != nil {
		return 0, fmt.Errorf("open a cursor on the staging table: %w", err)
	}
	fetch := fmt.Sprintf("FETCH FORWARD %d FROM mxmigrate_copy", fetchRows)
	dst := make([]any, len(m.Columns))
	var total int64
	for {
		// Described each time: the same FETCH text reads other tables
		// on a reused connection, and a cached description would not fit.
		rows, err := tx.Query(ctx, fetch, pgx.QueryExecModeDescribeExec)
		if err != nil {
			return total, err
		}
		got := 0
		for rows.Next() {
			got++
			values, err := rows.Values()
			if err == nil {
				err = m.ConvertRow(dst, values)
			}
			if err == nil {
				err = fn(dst)
			}
			if err != nil {
				rows.Close()
				return total, err
			}
			total++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		if got < fetchRows {
			return total, nil
		}
	}
}

// selectQuery reads a table's columns in order, cast where the mapping
// reads PostgreSQL's text form.
func selectQuery(schema string, m *typemap.Table) string {
	q := "SELECT "
	for i := range m.Columns {
		if i > 0 {
			q += ", "
		}
		q += m.Columns[i].SelectExpr()
	}
	return q + " FROM " + pgx.Identifier{schema, m.Name}.Sanitize()
}

// bulkSink writes rows with go-mssqldb's bulk copy, completing the bulk
// load (and so committing) every batchRows rows.
type bulkSink struct {
	conn    *sql.Conn
	table   string
	columns []string
	stmt    *sql.Stmt
	inBatch int
}

func newBulkSink(conn *sql.Conn, table string, m *typemap.Table) *bulkSink {
	cols := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		cols[i] = c.Name // CopyIn matches raw names against the table's
	}
	return &bulkSink{conn: conn, table: table, columns: cols}
}

func (b *bulkSink) Write(ctx context.Context, row []any) error {
	if b.stmt == nil {
		stmt, err := b.conn.PrepareContext(ctx, mssql.CopyIn(b.table, mssql.BulkOptions{
			Tablock: true, KeepNulls: true, RowsPerBatch: batchRows,
		}, b.columns...))
		if err != nil {
			return fmt.Errorf("start bulk copy: %w", err)
		}
		b.stmt = stmt
	}
	if _, err := b.stmt.ExecContext(ctx, row...); err != nil {
		return fmt.Errorf("bulk copy: %w", err)
	}
	if b.inBatch++; b.inBatch == batchRows {
		return b.Flush(ctx)
	}
	return nil
}

// Flush completes the current bulk load.
func (b *bulkSink) Flush(ctx context.Context) error {
	if b.stmt == nil {
		return nil
	}
	_, err := b.stmt.ExecContext(ctx)
	b.stmt.Close()
	b.stmt, b.inBatch = nil, 0
	if err != nil {
		return fmt.Errorf("complete bulk copy: %w", err)
	}
	return nil
}

// discard drops the connection after a failed copy: it may be stuck
// inside a bulk load, and must not go back to the pool.
func (b *bulkSink) discard() {
	if b.stmt != nil {
		b.stmt.Close()
	}
	b.conn.Raw(func(any) error { return driver.ErrBadConn })
	b.conn.Close()
}
