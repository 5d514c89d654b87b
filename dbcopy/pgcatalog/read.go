package pgcatalog

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// Read returns the tables and sequences of schema. Views, functions and
// other objects are not read: a Mendix database has none that the runtime
// does not recreate.
func Read(ctx context.Context, conn *pgx.Conn, schema string) (*Schema, error) {
	s := &Schema{Name: schema}
	byOID := map[uint32]*Table{}
	nnd, err := nullsNotDistinctColumn(ctx, conn)
	if err != nil {
		return nil, err
	}
	if err := readTables(ctx, conn, schema, s, byOID); err != nil {
		return nil, err
	}
	if err := readColumns(ctx, conn, schema, byOID); err != nil {
		return nil, err
	}
	if err := readConstraints(ctx, conn, schema, nnd, byOID); err != nil {
		return nil, err
	}
	if err := readIndexes(ctx, conn, schema, nnd, byOID); err != nil {
		return nil, err
	}
	if err := readSequences(ctx, conn, schema, s); err != nil {
		return nil, err
	}
	// Sorted here, not by the server, whose collation may not be byte order.
	sort.Slice(s.Tables, func(i, j int) bool { return s.Tables[i].Name < s.Tables[j].Name })
	return s, nil
}

// nullsNotDistinctColumn is the expression over pg_index i that says
// whether an index is NULLS NOT DISTINCT: i.indnullsnotdistinct from
// PostgreSQL 15 on, which added both, and false before.
func nullsNotDistinctColumn(ctx context.Context, conn *pgx.Conn) (string, error) {
	var version int
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		return "", fmt.Errorf("read the server's version: %w", err)
	}
	if version >= 150000 {
		return "i.indnullsnotdistinct", nil
	}
	return "false", nil
}

func readTables(ctx context.Context, conn *pgx.Conn, schema string, s *Schema, byOID map[uint32]*Table) error {
	rows, err := conn.Query(ctx, `
SELECT c.oid, c.relname::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname`, schema)
	if err != nil {
		return fmt.Errorf("read tables of schema %q: %w", schema, err)
	}
	var oid uint32
	var name string
	_, err = pgx.ForEachRow(rows, []any{&oid, &name}, func() error {
		t := &Table{Name: name}
		s.Tables = append(s.Tables, t)
		byOID[oid] = t
		return nil
	})
	if err != nil {
		return fmt.Errorf("read tables of schema %q: %w", schema, err)
	}
	return nil
}

func readColumns(ctx context.Context, conn *pgx.Conn, schema string, byOID map[uint32]*Table) error {
	// For a domain, the modifiers and base type are the domain's base
	// type's: that is what the values look like on the wire.
	rows, err := conn.Query(ctx, `
SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, NULL) ELSE format_type(a.atttypid, NULL) END,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
       t.typtype::text, a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
       a.attidentity::text, a.attgenerated::text
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`, schema)
	if err != nil {
		return fmt.Errorf("read columns of schema %q: %w", schema, err)
	}
	var (
		oid                      uint32
		name, text, base, kind   string
		typmod                   int32
		notNull                  bool
		def, identity, generated string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &text, &base, &typmod, &kind, &notNull, &def, &identity, &generated}, func() error {
		t := byOID[oid]
		if t == nil {
			return nil
		}
		t.Columns = append(t.Columns, Column{
			Name:      name,
			Type:      newType(text, base, typmod, firstByte(kind)),
			NotNull:   notNull,
			Default:   def,
			Identity:  identity,
			Generated: generated,
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read columns of schema %q: %w", schema, err)
	}
	return nil
}

func readConstraints(ctx context.Context, conn *pgx.Conn, schema, nnd string, byOID map[uint32]*Table) error {
	// Column lists are unnested WITH ORDINALITY to keep key order, which
	// attnum order is not.
	rows, err := conn.Query(ctx, `
SELECT con.conrelid, con.conname::text, con.contype::text,
       array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
       coalesce(rn.nspname::text, ''), coalesce(rc.relname::text, ''),
       array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord),
       con.confdeltype::text, con.confupdtype::text, coalesce(`+nnd+`, false)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = con.conindid AND con.contype = 'u'
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f')
ORDER BY con.conrelid, con.conname`, schema)
	if err != nil {
		return fmt.Errorf("read constraints of schema %q: %w", schema, err)
	}
	var (
		oid                             uint32
		name, kind, refSchema, refTable string
		cols, refCols                   []string
		onDelete, onUpdate              string
		nullsNotDistinct                bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &kind, &cols, &refSchema, &refTable, &refCols, &onDelete, &onUpdate, &nullsNotDistinct}, func() error {
		t := byOID[oid]
		if t == nil {
			return nil
		}
		switch kind {
		case "p":
			t.PrimaryKey = &Constraint{Name: name, Columns: cols}
		case "u":
			t.Uniques = append(t.Uniques, Constraint{Name: name, Columns: cols, NullsNotDistinct: nullsNotDistinct})
		case "f":
			t.ForeignKeys = append(t.ForeignKeys, ForeignKey{
				Name: name, Columns: cols, RefSchema: refSchema, RefTable: refTable, RefColumns: refCols,
				OnDelete: foreignKeyAction(onDelete), OnUpdate: foreignKeyAction(onUpdate),
			})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read constraints of schema %q: %w", schema, err)
	}
	return nil
}

func foreignKeyAction(code string) string {
	switch code {
	case "r":
		return "RESTRICT"
	case "c":
		return "CASCADE"
	case "n":
		return "SET NULL"
	case "d":
		return "SET DEFAULT"
	default:
		return "NO ACTION"
	}
}

func readIndexes(ctx context.Context, conn *pgx.Conn, schema, nnd string, byOID map[uint32]*Table) error {
	// Indexes that back a primary key, unique or exclusion constraint are
	// created with their constraint. An expression column has attnum 0 and
	// comes back as "".
	rows, err := conn.Query(ctx, `
SELECT i.indrelid, ic.relname::text, i.indisunique, am.amname::text,
       i.indpred IS NOT NULL, i.indexprs IS NOT NULL, pg_get_indexdef(i.indexrelid), i.indnkeyatts,
       array(SELECT coalesce(a.attname::text, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord),
       i.indoption::int2[], `+nnd+`
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname`, schema)
	if err != nil {
		return fmt.Errorf("read indexes of schema %q: %w", schema, err)
	}
	var oid uint32
	var r indexRow
	_, err = pgx.ForEachRow(rows, []any{&oid, &r.name, &r.unique, &r.method, &r.partial, &r.exprs, &r.def, &r.keyCount, &r.cols, &r.options, &r.nullsNotDistinct}, func() error {
		if t := byOID[oid]; t != nil {
			t.Indexes = append(t.Indexes, r.index())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read indexes of schema %q: %w", schema, err)
	}
	return nil
}

// Bits of pg_index.indoption.
const (
	indexOptionDesc       = 1
	indexOptionNullsFirst = 2
)

// indexRow is one row of the index query above.
type indexRow struct {
	name, method, def      string
	unique, partial, exprs bool
	keyCount               int16
	cols                   []string
	options                []int16
	nullsNotDistinct       bool
}

func (r indexRow) index() Index {
	idx := Index{Name: r.name, Unique: r.unique, Method: r.method, Definition: r.def, NullsNotDistinct: r.nullsNotDistinct}
	keyCount, cols, options := int(r.keyCount), r.cols, r.options
	for i, col := range cols {
		if i >= keyCount {
			idx.Include = append(idx.Include, col)
			continue
		}
		var opt int16
		if i < len(options) {
			opt = options[i]
		}
		idx.Columns = append(idx.Columns, IndexColumn{
			Name:       col,
			Descending: opt&indexOptionDesc != 0,
			NullsFirst: opt&indexOptionNullsFirst != 0,
		})
	}
	switch {
	case r.partial:
		idx.NotConvertible = "partial index"
	case r.exprs:
		idx.NotConvertible = "expression index"
	case r.method != "btree":
		idx.NotConvertible = r.method + " index"
	}
	return idx
}

func readSequences(ctx context.Context, conn *pgx.Conn, schema string, s *Schema) error {
	rows, err := conn.Query(ctx, `
SELECT c.relname::text, format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcycle
FROM pg_sequence q
JOIN pg_class c ON c.oid = q.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1
ORDER BY c.relname`, schema)
	if err != nil {
		return fmt.Errorf("read sequences of schema %q: %w", schema, err)
	}
	seqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Sequence, error) {
		var q Sequence
		err := r.Scan(&q.Name, &q.DataType, &q.Start, &q.Increment, &q.Min, &q.Max, &q.Cycle)
		return &q, err
	})
	if err != nil {
		return fmt.Errorf("read sequences of schema %q: %w", schema, err)
	}
	// The state lives in the sequence relation itself, one query each.
	for _, q := range seqs {
		name := pgx.Identifier{schema, q.Name}.Sanitize()
		if err := conn.QueryRow(ctx, "SELECT last_value, is_called FROM "+name).Scan(&q.LastValue, &q.IsCalled); err != nil {
			return fmt.Errorf("read state of sequence %s: %w", name, err)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i].Name < seqs[j].Name })
	s.Sequences = seqs
	return nil
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}
