package sqlserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"

	mssql "github.com/microsoft/go-mssqldb"
	"golang.org/x/sync/errgroup"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/typemap"
)

const (
	// batchRows is how many rows one bulk copy sends before it completes
	// (each completed bulk copy is committed on its own).
	batchRows = 100_000
	// progressEvery bounds how often a copy reports progress.
	progressEvery = 10_000
	// stripeRows is how many consecutive rows of a table split across
	// several bulk-copy streams go to one stream.
	stripeRows = 10_000
)

// streamsFor is how many bulk-copy streams load a table: one, unless the
// table alone is more than a job's share of the data (it would be the
// last to finish, loading alone); then as many as it has shares, up to
// jobs. SQL Server takes concurrent TABLOCK bulk loads into a heap, and
// the tables are heaps until the keys are built.
func (p *prepared) streamsFor(table string, jobs int) int {
	var total int64
	for _, size := range p.dataSize {
		total += size
	}
	size := p.dataSize[table]
	if jobs < 2 || total == 0 || size*int64(jobs) <= total {
		return 1
	}
	return int(min(int64(jobs), (size*int64(jobs)+total-1)/total))
}

// copyTable copies one table from scratch, in streams bulk-copy streams:
// rows an interrupted copy left are truncated first, since bulk copy
// batches commit one by one, and the table counts as copied only once
// every stream is done.
func (t *target) copyTable(ctx context.Context, p *prepared, pt *plannedTable, streams int, progress dbcopy.Progress) error {
	name := pt.Source.Name
	if err := setTableStatus(ctx, t.db, t.schema, name, statusCopying, 0); err != nil {
		return err
	}
	if _, err := t.db.ExecContext(ctx, "TRUNCATE TABLE "+qualified(t.schema, name)); err != nil {
		return fmt.Errorf("truncate %s: %w", qualified(t.schema, name), err)
	}
	var n int64
	if streams <= 1 {
		copied, err := t.copyStream(ctx, p, pt, 0, 1, progress)
		if err != nil {
			return err
		}
		n = copied
	} else {
		// Each stream reads the table's data (decompressing is cheap
		// next to the server's work) and sends its stripes of rows.
		g, gctx := errgroup.WithContext(ctx)
		counts := make([]int64, streams)
		for k := range streams {
			g.Go(func() (err error) {
				counts[k], err = t.copyStream(gctx, p, pt, k, streams, progress)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, c := range counts {
			n += c
		}
	}
	t.log.Info("copied table", "table", name, "rows", n, "streams", streams)
	return setTableStatus(ctx, t.db, t.schema, name, statusDone, n)
}

// copyStream bulk-copies the rows of stripe k of streams (every row when
// streams is 1) on a connection of its own. It returns how many rows it
// sent.
func (t *target) copyStream(ctx context.Context, p *prepared, pt *plannedTable, k, streams int, progress dbcopy.Progress) (int64, error) {
	name := pt.Source.Name
	var sent int64
	err := onBulkConn(ctx, t.db, func(mc *mssql.Conn) error {
		sink := newBulkSink(mc, qualified(t.schema, name), pt.Map)
		var sinceReport, bytesSinceReport, row int64
		report := func() {
			progress.Add(sinceReport)
			dbcopy.ReportRows(progress, name, sinceReport, bytesSinceReport)
			sinceReport, bytesSinceReport = 0, 0
		}
		conv := pt.Map.NewBulkRow()
		_, err := p.streamTable(ctx, pt, func(fields []pgdump.Field) error {
			mine := streams == 1 || int((row/stripeRows)%int64(streams)) == k
			row++
			if !mine {
				return nil
			}
			sent++
			values, err := conv.Convert(fields)
			if err != nil {
				return err
			}
			if err := sink.Write(ctx, values); err != nil {
				return err
			}
			// The row's size as COPY text, near enough: the values and a
			// separator or newline after each.
			bytesSinceReport += int64(len(fields))
			for _, f := range fields {
				bytesSinceReport += int64(len(f.Value))
			}
			if sinceReport++; sinceReport == progressEvery {
				report()
			}
			return nil
		})
		if err == nil {
			err = sink.Flush()
		}
		if sinceReport > 0 {
			report()
		}
		return err
	})
	if err != nil {
		return sent, fmt.Errorf("copy table %q: %w", name, err)
	}
	return sent, nil
}

// streamTable reads a table's COPY data from the dump and hands each row
// to fn, its fields in the order of the table's columns (a column the COPY
// statement does not list, such as a generated one, is NULL). fn must not
// keep the fields. It returns the number of rows.
func (p *prepared) streamTable(ctx context.Context, pt *plannedTable, fn func(fields []pgdump.Field) error) (int64, error) {
	entry := p.data[pt.Source.Name]
	if entry == nil {
		return 0, nil // the dump holds no data for it (pg_dump --schema-only of a table)
	}
	order, err := copyOrder(entry, pt.Map)
	if err != nil {
		return 0, err
	}
	data, err := p.archive.OpenData(ctx, entry)
	if err != nil {
		return 0, err
	}
	defer data.Close()
	cr := pgdump.NewCopyReader(data)
	fields := make([]pgdump.Field, len(pt.Map.Columns))
	for i := range fields {
		fields[i] = pgdump.Field{Null: true}
	}
	var total int64
	for {
		row, err := cr.Next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read %s: %w", entry, err)
		}
		if len(row) != len(order) {
			return total, exitcode.With(exitcode.BadInput, fmt.Errorf("%s: row %d has %d fields, its COPY statement names %d columns", entry, total+1, len(row), len(order)))
		}
		for i, j := range order {
			fields[j] = row[i]
		}
		if err := fn(fields); err != nil {
			return total, err
		}
		total++
	}
}

// copyOrder maps the columns of a TABLE DATA entry's COPY statement to
// the table's columns: order[i] is the table column of the i-th field.
func copyOrder(entry *pgdump.Entry, m *typemap.Table) ([]int, error) {
	names, err := entry.CopyColumns()
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, err)
	}
	index := map[string]int{}
	for i, c := range m.Columns {
		index[c.Name] = i
	}
	order := make([]int, len(names))
	listed := map[int]bool{}
	for i, name := range names {
		j, ok := index[name]
		if !ok || listed[j] {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("%s: its COPY statement names column %q, which the table's definition does not have (or names it twice)", entry, name))
		}
		order[i] = j
		listed[j] = true
	}
	for j, c := range m.Columns {
		if !listed[j] && !c.Nullable {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("%s: its COPY statement leaves out column %q, which is NOT NULL", entry, c.Name))
		}
	}
	return order, nil
}

// onBulkConn runs fn on a connection of its own, as go-mssqldb's
// connection: its bulk copy then takes each row as it is, without
// database/sql's per-row conversions and copies. A connection on which fn
// failed is closed, not returned to the pool: it may be stuck inside a
// bulk load.
func onBulkConn(ctx context.Context, db *sql.DB, fn func(*mssql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	var fnErr error
	err = conn.Raw(func(dc any) error {
		mc, ok := dc.(*mssql.Conn)
		if !ok {
			fnErr = fmt.Errorf("bulk copy needs a go-mssqldb connection, not %T", dc)
			return driver.ErrBadConn
		}
		if fnErr = fn(mc); fnErr != nil {
			return driver.ErrBadConn // closes the connection
		}
		return nil
	})
	closeErr := conn.Close()
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return err
	}
	return closeErr
}

// bulkSink writes rows with go-mssqldb's bulk copy, completing the bulk
// load (and so committing) every batchRows rows.
type bulkSink struct {
	conn    *mssql.Conn
	table   string
	columns []string
	bulk    *mssql.Bulk
	inBatch int
}

func newBulkSink(conn *mssql.Conn, table string, m *typemap.Table) *bulkSink {
	cols := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		cols[i] = c.Name // the bulk copy matches raw names against the table's
	}
	return &bulkSink{conn: conn, table: table, columns: cols}
}

// Write sends a row; a batch runs under the ctx of the Write that starts
// it. The bulk copy encodes the row into its own buffer before AddRow
// returns, so the caller may reuse row and what its values point to
// (Bulk.makeRowData writes every value into a new bytes.Buffer, which
// AddRow copies into the session's packet buffer).
func (b *bulkSink) Write(ctx context.Context, row []any) error {
	// AddRow only writes to the connection: a cancelled load stops here.
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.bulk == nil {
		b.bulk = b.conn.CreateBulkContext(ctx, b.table, b.columns)
		b.bulk.Options = mssql.BulkOptions{Tablock: true, KeepNulls: true, RowsPerBatch: batchRows}
	}
	if err := b.bulk.AddRow(row); err != nil {
		return fmt.Errorf("bulk copy: %w", err)
	}
	if b.inBatch++; b.inBatch == batchRows {
		return b.Flush()
	}
	return nil
}

// Flush completes the current bulk load.
func (b *bulkSink) Flush() error {
	if b.bulk == nil {
		return nil
	}
	_, err := b.bulk.Done()
	b.bulk, b.inBatch = nil, 0
	if err != nil {
		return fmt.Errorf("complete bulk copy: %w", err)
	}
	return nil
}
