package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// Inventory reads what the target schema holds: exact row counts (up to
// Options.Jobs tables at a time), the value each sequence's nextval() would
// return, and the names of indexes and constraints as "table.name".
//
// Indexes lists only indexes that back no constraint, as the dump's INDEX
// items do; Constraints lists primary keys, unique, foreign key, check and
// exclusion constraints (not NOT NULL, which PostgreSQL 18 also records).
func (t *Target) Inventory(ctx context.Context) (*dbcopy.Inventory, error) {
	conn, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer closeQuietly(conn)
	inv := &dbcopy.Inventory{
		Tables:      map[string]int64{},
		Sequences:   map[string]int64{},
		Indexes:     map[string]bool{},
		Constraints: map[string]bool{},
	}
	steps := []func(context.Context, *pgx.Conn, *dbcopy.Inventory) error{
		t.inventoryTables, t.inventorySequences, t.inventoryNames,
	}
	for _, step := range steps {
		if err := step(ctx, conn, inv); err != nil {
			return nil, interrupted(ctx, err)
		}
	}
	return inv, nil
}

func (t *Target) inventoryTables(ctx context.Context, conn *pgx.Conn, inv *dbcopy.Inventory) error {
	rows, err := conn.Query(ctx, `
SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`, t.schema)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	// Tables the load counted once their data and indexes were in are not
	// counted again; every other table, and every table of a later
	// Inventory, is.
	early := t.takeCounts()
	var refs []tableRef
	for _, name := range names {
		if n, ok := early[name]; ok {
			inv.Tables[name] = n
			continue
		}
		refs = append(refs, tableRef{schema: t.schema, name: name})
	}
	counts, err := t.countRows(ctx, refs, t.opts.Jobs)
	if err != nil {
		return err
	}
	for ref, n := range counts {
		inv.Tables[ref.name] = n
	}
	return nil
}

// inventorySequences reads last_value and is_called from each sequence
// itself: pg_sequences hides last_value until nextval or setval(.., true).
func (t *Target) inventorySequences(ctx context.Context, conn *pgx.Conn, inv *dbcopy.Inventory) error {
	rows, err := conn.Query(ctx, `
SELECT sequencename::text, increment_by FROM pg_sequences WHERE schemaname = $1 ORDER BY 1`, t.schema)
	if err != nil {
		return fmt.Errorf("list sequences: %w", err)
	}
	type seq struct {
		name      string
		increment int64
	}
	seqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (seq, error) {
		var s seq
		return s, r.Scan(&s.name, &s.increment)
	})
	if err != nil {
		return fmt.Errorf("list sequences: %w", err)
	}
	for _, s := range seqs {
		var state dbcopy.SourceSequence
		q := "SELECT last_value, is_called FROM " + pgx.Identifier{t.schema, s.name}.Sanitize()
		if err := conn.QueryRow(ctx, q).Scan(&state.Value, &state.IsCalled); err != nil {
			return fmt.Errorf("read sequence %s: %w", s.name, err)
		}
		inv.Sequences[s.name] = state.NextValue(s.increment)
	}
	return nil
}

// inventoryNamesSQL lists indexes that back no constraint, and constraints
// other than NOT NULL, each as (is_index, "table.name").
const inventoryNamesSQL = `
SELECT true, r.relname || '.' || c.relname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class r ON r.oid = i.indrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE n.nspname = $1
	AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT false, r.relname || '.' || co.conname
FROM pg_constraint co
JOIN pg_class r ON r.oid = co.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE n.nspname = $1 AND co.contype IN ('p', 'u', 'f', 'c', 'x')`

func (t *Target) inventoryNames(ctx context.Context, conn *pgx.Conn, inv *dbcopy.Inventory) error {
	rows, err := conn.Query(ctx, inventoryNamesSQL, t.schema)
	if err != nil {
		return fmt.Errorf("list indexes and constraints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var isIndex bool
		var name string
		if err := rows.Scan(&isIndex, &name); err != nil {
			return err
		}
		if isIndex {
			inv.Indexes[name] = true
		} else {
			inv.Constraints[name] = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list indexes and constraints: %w", err)
	}
	return nil
}
