package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// Inventory counts the rows of every table in the target schema and reads
// its sequences, indexes and constraints. Indexes are those that back no
// constraint; constraints are primary keys, unique constraints and
// foreign keys, as the dump lists them. When this target has read the
// dump (Preflight or Load ran), a key or index in the wrong form (see
// formProblem) is left out, so verification reports it.
func (t *target) Inventory(ctx context.Context) (*dbcopy.Inventory, error) {
	inv := &dbcopy.Inventory{Tables: map[string]int64{}, Sequences: map[string]int64{}, Indexes: map[string]bool{}, Constraints: map[string]bool{}}
	tables, err := queryStrings(ctx, t.db, `SELECT name FROM sys.tables WHERE schema_id = SCHEMA_ID(@p1) ORDER BY name`, t.schema)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	for _, name := range tables {
		var n int64
		if err := t.db.QueryRowContext(ctx, "SELECT COUNT_BIG(*) FROM "+qualified(t.schema, name)).Scan(&n); err != nil {
			return nil, fmt.Errorf("inventory: count %s: %w", qualified(t.schema, name), err)
		}
		inv.Tables[name] = n
	}
	// A sequence never used returns its start value next; last_used_value
	// (SQL Server 2017 and later) tells the two apart.
	rows, err := t.db.QueryContext(ctx, `SELECT name,
    CASE WHEN last_used_value IS NULL THEN CONVERT(bigint, start_value) ELSE CONVERT(bigint, current_value) + CONVERT(bigint, increment) END
FROM sys.sequences WHERE schema_id = SCHEMA_ID(@p1)`, t.schema)
	if err != nil {
		return nil, fmt.Errorf("inventory: sequences: %w", err)
	}
	for rows.Next() {
		var name string
		var next int64
		if err := rows.Scan(&name, &next); err != nil {
			rows.Close()
			return nil, err
		}
		inv.Sequences[name] = next
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	indexes, err := queryStrings(ctx, t.db, `SELECT t.name + N'.' + i.name FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id
WHERE t.schema_id = SCHEMA_ID(@p1) AND i.type > 0 AND i.is_primary_key = 0 AND i.is_unique_constraint = 0 AND i.is_hypothetical = 0`, t.schema)
	if err != nil {
		return nil, fmt.Errorf("inventory: indexes: %w", err)
	}
	for _, k := range indexes {
		inv.Indexes[k] = true
	}
	// sys.key_constraints and sys.foreign_keys rather than sys.objects by
	// type: the same rows on SQL Server, and the views TDS stand-ins fill.
	constraints, err := queryStrings(ctx, t.db, `SELECT OBJECT_NAME(o.parent_object_id) + N'.' + o.name FROM sys.key_constraints o WHERE o.schema_id = SCHEMA_ID(@p1)
UNION ALL SELECT OBJECT_NAME(o.parent_object_id) + N'.' + o.name FROM sys.foreign_keys o WHERE o.schema_id = SCHEMA_ID(@p1)`, t.schema)
	if err != nil {
		return nil, fmt.Errorf("inventory: constraints: %w", err)
	}
	for _, k := range constraints {
		inv.Constraints[k] = true
	}
	// A unique constraint over nullable columns is a unique index filtered
	// to rows without NULLs (see createFilteredUniqueSQL), under the
	// constraint's name: a unique index enforces the key as the
	// constraint would.
	filtered, err := queryStrings(ctx, t.db, `SELECT t.name + N'.' + i.name FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id
WHERE t.schema_id = SCHEMA_ID(@p1) AND i.is_unique = 1 AND i.is_primary_key = 0 AND i.is_unique_constraint = 0`, t.schema)
	if err != nil {
		return nil, fmt.Errorf("inventory: filtered unique indexes: %w", err)
	}
	for _, k := range filtered {
		inv.Constraints[k] = true
	}
	// After a load (or its preflight) the plan says which form each key
	// must have; verify then checks the form, not only the name.
	t.mu.Lock()
	p := t.prepared
	t.mu.Unlock()
	if p != nil && p.plan != nil {
		if err := t.checkForms(ctx, p.plan, inv.Indexes, inv.Constraints); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

func queryStrings(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ScanTable streams a table ordered by its primary key (all columns when it
// has none). Text keys are ordered by code point (BIN2) and
// uniqueidentifiers by their text, so that the order matches PostgreSQL's
// under the "C" collation. Values come back as the PostgreSQL target
// returns them: decimals, uniqueidentifiers (lower case) and times of day
// as PostgreSQL's text, datetimeoffset in UTC.
func (t *target) ScanTable(ctx context.Context, table string, columns []string, fn func(values []any) error) error {
	types, order, err := t.tableShape(ctx, table)
	if err != nil {
		return err
	}
	if len(columns) == 0 {
		columns = order.all
	}
	orderBy := order.key
	if len(orderBy) == 0 {
		orderBy = columns
	}
	terms := make([]string, len(orderBy))
	for i, c := range orderBy {
		terms[i] = orderTerm(c, types[c])
	}
	query := "SELECT " + quoteList(columns) + " FROM " + qualified(t.schema, table) + " ORDER BY " + strings.Join(terms, ", ")
	rows, err := t.db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("scan %s: %w", qualified(t.schema, table), err)
	}
	defer rows.Close()
	raw := make([]any, len(columns))
	dest := make([]any, len(columns))
	for i := range raw {
		dest[i] = &raw[i]
	}
	values := make([]any, len(columns))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i, c := range columns {
			values[i] = plainValue(raw[i], types[c])
		}
		if err := fn(values); err != nil {
			return err
		}
	}
	return rows.Err()
}

type tableOrder struct {
	all []string // every column, in order
	key []string // primary key columns, in key order
}

// tableShape reads the column types (upper case) and the primary key.
func (t *target) tableShape(ctx context.Context, table string) (map[string]string, tableOrder, error) {
	var order tableOrder
	types := map[string]string{}
	name := qualified(t.schema, table)
	rows, err := t.db.QueryContext(ctx, `SELECT c.name, UPPER(TYPE_NAME(c.user_type_id)) FROM sys.columns c WHERE c.object_id = OBJECT_ID(@p1) ORDER BY c.column_id`, name)
	if err != nil {
		return nil, order, fmt.Errorf("read columns of %s: %w", name, err)
	}
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			rows.Close()
			return nil, order, err
		}
		types[col] = typ
		order.all = append(order.all, col)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, order, err
	}
	if len(order.all) == 0 {
		return nil, order, fmt.Errorf("table %s does not exist", name)
	}
	order.key, err = queryStrings(ctx, t.db, `SELECT c.name FROM sys.indexes i
JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = OBJECT_ID(@p1) AND i.is_primary_key = 1 ORDER BY ic.key_ordinal`, name)
	return types, order, err
}

// orderTerm orders a column the way PostgreSQL's "C" collation orders its
// source.
func orderTerm(col, typ string) string {
	switch typ {
	case "NVARCHAR", "NCHAR", "VARCHAR", "CHAR":
		return quoteIdent(col) + " COLLATE Latin1_General_100_BIN2"
	case "UNIQUEIDENTIFIER":
		return "CONVERT(char(36), " + quoteIdent(col) + ")"
	}
	return quoteIdent(col)
}

// plainValue turns what go-mssqldb returns into the values the Target
// contract names.
func plainValue(v any, typ string) any {
	switch v := v.(type) {
	case []byte:
		switch typ {
		case "DECIMAL", "NUMERIC", "MONEY", "SMALLMONEY":
			return string(v)
		case "UNIQUEIDENTIFIER":
			return guidString(v)
		}
		return v
	case float32:
		return float64(v)
	case time.Time:
		switch typ {
		case "DATETIMEOFFSET":
			return v.UTC()
		case "TIME":
			// As PostgreSQL prints a time, which is how the PostgreSQL
			// target's ScanTable returns it.
			return v.Format("15:04:05.999999")
		}
		return v
	}
	return v
}

// guidString is the canonical lower-case text of a uniqueidentifier as
// SQL Server sends it (first three groups little-endian).
func guidString(b []byte) string {
	if len(b) != 16 {
		return fmt.Sprintf("%x", b)
	}
	u := []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
