package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Base type OIDs that are read as Go values; every other type (numeric
// included, to keep it exact) is read as its text form.
var nativeTypes = map[uint32]bool{
	pgtype.BoolOID: true, pgtype.ByteaOID: true,
	pgtype.Int2OID: true, pgtype.Int4OID: true, pgtype.Int8OID: true,
	pgtype.Float4OID: true, pgtype.Float8OID: true,
	pgtype.TextOID: true, pgtype.VarcharOID: true, pgtype.BPCharOID: true,
	pgtype.DateOID: true, pgtype.TimestampOID: true, pgtype.TimestamptzOID: true,
}

// Types whose text forms sort differently from their values, or need a
// collation to sort: these are ordered as they are, text under "C".
var (
	orderedNatively = map[uint32]bool{
		pgtype.BoolOID: true, pgtype.ByteaOID: true, pgtype.Int2OID: true, pgtype.Int4OID: true,
		pgtype.Int8OID: true, pgtype.Float4OID: true, pgtype.Float8OID: true, pgtype.NumericOID: true,
		pgtype.DateOID: true, pgtype.TimestampOID: true, pgtype.TimestamptzOID: true,
		pgtype.TimeOID: true, pgtype.TimetzOID: true, pgtype.IntervalOID: true, pgtype.UUIDOID: true,
		pgtype.OIDOID: true,
	}
	textTypes = map[uint32]bool{pgtype.TextOID: true, pgtype.VarcharOID: true, pgtype.BPCharOID: true}
)

// column is a table column with its base type (domains resolved).
type column struct {
	name     string
	baseType uint32
	baseName string
	isDomain bool
	keyPos   int // position in the primary key, from 1; 0 when not in it
}

// selectExpr reads the column as a Go-friendly type.
func (c column) selectExpr() string {
	q := pgx.Identifier{c.name}.Sanitize()
	switch {
	case !nativeTypes[c.baseType]:
		return q + "::text"
	case c.isDomain:
		return q + "::" + c.baseName
	}
	return q
}

// orderExpr sorts the column the same way on every server: text under the
// "C" collation, types without a natural order by their text form.
func (c column) orderExpr() string {
	q := pgx.Identifier{c.name}.Sanitize()
	switch {
	case textTypes[c.baseType]:
		return q + ` COLLATE "C"`
	case orderedNatively[c.baseType]:
		return q
	}
	return q + `::text COLLATE "C"`
}

// ScanTable streams the rows of table in the target schema, ordered by its
// primary key (or by all its columns when it has none), as plain Go values:
// nil, int64, float64, string, []byte, bool, time.Time (UTC), or a string
// for numerics (exact), infinite timestamps and every other type. columns
// picks the columns and their order; empty means all of them. fn must not
// keep the slice, which is reused for the next row.
func (t *Target) ScanTable(ctx context.Context, table string, columns []string, fn func(values []any) error) error {
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer closeQuietly(conn)
	cols, err := tableColumns(ctx, conn, t.schema, table)
	if err != nil {
		return err
	}
	selected, err := pickColumns(cols, columns, table)
	if err != nil {
		return err
	}
	query := scanQuery(tableRef{schema: t.schema, name: table}, selected, cols)
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return interrupted(ctx, fmt.Errorf("read %s: %w", table, err))
	}
	defer rows.Close()
	values := make([]any, len(selected))
	for rows.Next() {
		raw, err := rows.Values()
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for i, v := range raw {
			values[i] = plainValue(v)
		}
		if err := fn(values); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return interrupted(ctx, fmt.Errorf("read %s: %w", table, err))
	}
	return nil
}

func tableColumns(ctx context.Context, conn *pgx.Conn, schema, table string) ([]column, error) {
	rows, err := conn.Query(ctx, `
SELECT a.attname::text,
	(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::int8,
	format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, NULL),
	t.typtype = 'd',
	coalesce(array_position(i.indkey::int2[], a.attnum), 0)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		var oid int64
		err := r.Scan(&c.name, &oid, &c.baseName, &c.isDomain, &c.keyPos)
		c.baseType = uint32(oid)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	if len(cols) == 0 {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("table %s.%s not found in %s", schema, table, "the target"))
	}
	return cols, nil
}

func pickColumns(cols []column, names []string, table string) ([]column, error) {
	if len(names) == 0 {
		return cols, nil
	}
	byName := make(map[string]column, len(cols))
	for _, c := range cols {
		byName[c.name] = c
	}
	picked := make([]column, len(names))
	for i, name := range names {
		c, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("table %s has no column %q", table, name)
		}
		picked[i] = c
	}
	return picked, nil
}

// scanQuery selects the columns ordered by the primary key's columns, in
// key order, or by every column of the table.
func scanQuery(table tableRef, selected, all []column) string {
	sel := make([]string, len(selected))
	for i, c := range selected {
		sel[i] = c.selectExpr()
	}
	var key []column
	for _, c := range all {
		if c.keyPos > 0 {
			key = append(key, c)
		}
	}
	slices.SortFunc(key, func(a, b column) int { return a.keyPos - b.keyPos })
	var order []string
	for _, c := range key {
		order = append(order, c.orderExpr())
	}
	if len(order) == 0 {
		for _, c := range all {
			order = append(order, c.orderExpr())
		}
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + table.sql() + " ORDER BY " + strings.Join(order, ", ")
}

// plainValue turns what pgx decoded into one of the documented Go types.
func plainValue(v any) any {
	switch x := v.(type) {
	case nil, int64, float64, string, []byte, bool:
		return x
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case time.Time:
		return x.UTC()
	case pgtype.InfinityModifier:
		return x.String()
	}
	return fmt.Sprint(v)
}
