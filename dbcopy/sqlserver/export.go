package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/typemap"
)

var _ dbcopy.Exporter = (*target)(nil)

// exportSchemaName is the schema a Mendix backup's dump uses, whatever
// schema the SQL Server tables live in.
const exportSchemaName = "public"

// BeginExport reads the schema from SQL Server's catalog and maps every
// column type back to the PostgreSQL type Mendix uses (typemap's inverse),
// failing on the first column that has none. Each table is then read in a
// SNAPSHOT transaction of its own when the database allows snapshot
// isolation; otherwise at READ COMMITTED, and the export relies on the app
// being stopped and the migration lock, as the log says.
func (t *target) BeginExport(ctx context.Context, opts dbcopy.ExportOptions) (dbcopy.ExportSession, error) {
	schema := t.schema
	if opts.Schema != "" {
		schema = opts.Schema
	}
	check, err := t.sessionsCheck(ctx, opts.AllowConnected)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	if !check.OK {
		return nil, dbcopy.PreflightRefused(fmt.Errorf("%s: %s", t, check.Detail))
	}
	if check.Warn {
		t.log.Warn("exporting", "check", check.Name, "detail", check.Detail)
	}
	s := &sqlExport{t: t, schema: schema, types: map[string][]pgcatalog.Type{}}
	if err := s.readSchema(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

type sqlExport struct {
	t        *target
	schema   string // the SQL Server schema read
	snapshot bool   // SNAPSHOT isolation is allowed
	es       *dbcopy.ExportSchema
	types    map[string][]pgcatalog.Type // table -> column types, in order
}

func (s *sqlExport) Schema() *dbcopy.ExportSchema { return s.es }

func (s *sqlExport) Close() error { return nil }

func (s *sqlExport) readSchema(ctx context.Context) error {
	db := s.t.db
	cat := &pgcatalog.Schema{Name: exportSchemaName}
	es := &dbcopy.ExportSchema{Schema: cat, SequenceOwners: map[string]dbcopy.ColumnRef{}}
	var version string
	if err := db.QueryRowContext(ctx, `SELECT DB_NAME(), CONVERT(nvarchar(128), SERVERPROPERTY('ProductVersion'))`).Scan(&es.DatabaseName, &version); err != nil {
		return fmt.Errorf("%s: read the database name: %w", s.t, err)
	}
	// The archive's restore needs PostgreSQL 12 or later: say so where
	// pg_restore and the loaders read the source's version.
	es.ServerVersion = "12.0 (exported by mxmigrate from SQL Server " + version + ")"
	var pages sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT SUM(CONVERT(bigint, size)) FROM sys.database_files`).Scan(&pages); err == nil && pages.Valid {
		es.DatabaseSize = pages.Int64 * 8192
	}
	var state sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT snapshot_isolation_state FROM sys.databases WHERE name = DB_NAME()`).Scan(&state); err == nil && state.Int64 == 1 {
		s.snapshot = true
		es.Consistency = "each table in a SNAPSHOT transaction of its own"
	} else {
		es.Consistency = "READ COMMITTED: snapshot isolation is off for this database (ALTER DATABASE ... SET ALLOW_SNAPSHOT_ISOLATION ON gives each table a snapshot); consistent because the app is stopped and the lock is held"
	}
	s.es = es

	byName := map[string]*pgcatalog.Table{}
	rows, err := db.QueryContext(ctx, `SELECT t.name, c.name, TYPE_NAME(c.system_type_id), c.max_length, c.precision, c.scale,
	c.is_nullable, c.is_identity, c.is_computed, ISNULL(d.definition, N'')
FROM sys.columns c
JOIN sys.tables t ON t.object_id = c.object_id
LEFT JOIN sys.default_constraints d ON d.object_id = c.default_object_id
WHERE t.schema_id = SCHEMA_ID(@p1)
ORDER BY t.name, c.column_id`, s.schema)
	if err != nil {
		return fmt.Errorf("%s: read columns: %w", s.t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, name, typ, def string
		var maxLen, prec, scale int
		var nullable, identity, computed bool
		if err := rows.Scan(&table, &name, &typ, &maxLen, &prec, &scale, &nullable, &identity, &computed, &def); err != nil {
			return fmt.Errorf("%s: read columns: %w", s.t, err)
		}
		tb := byName[table]
		if tb == nil {
			tb = &pgcatalog.Table{Name: table}
			byName[table] = tb
			cat.Tables = append(cat.Tables, tb)
		}
		where := fmt.Sprintf("table %s, column %s", table, name)
		if identity || computed {
			return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: identity and computed columns cannot be exported (Mendix uses neither)", where))
		}
		pt, err := typemap.PostgresType(typemap.SQLServerColumn{Type: typ, MaxLength: maxLen, Precision: prec, Scale: scale})
		if err != nil {
			return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: %w", where, err))
		}
		col := pgcatalog.Column{Name: name, Type: pt, NotNull: !nullable}
		if def != "" {
			if col.Default, err = postgresDefault(def, pt); err != nil {
				return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: %w", where, err))
			}
		}
		tb.Columns = append(tb.Columns, col)
		s.types[table] = append(s.types[table], pt)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: read columns: %w", s.t, err)
	}
	rows.Close()
	if len(cat.Tables) == 0 {
		return fmt.Errorf("%s: schema %s has no tables to export", s.t, s.schema)
	}
	sort.Slice(cat.Tables, func(i, j int) bool { return cat.Tables[i].Name < cat.Tables[j].Name })
	if err := s.readKeys(ctx, byName); err != nil {
		return err
	}
	if err := s.readIndexes(ctx, byName); err != nil {
		return err
	}
	if err := s.nullsNotDistinct(ctx, byName); err != nil {
		return err
	}
	if err := s.uniqueKeysAsConstraints(ctx, byName); err != nil {
		return err
	}
	if err := s.readForeignKeys(ctx, byName); err != nil {
		return err
	}
	return s.readSequences(ctx, cat)
}

func (s *sqlExport) readKeys(ctx context.Context, byName map[string]*pgcatalog.Table) error {
	// The index behind a key constraint has the constraint's name.
	rows, err := s.t.db.QueryContext(ctx, `SELECT t.name, i.name, CASE WHEN i.is_primary_key = 1 THEN N'PK' ELSE N'UQ' END, c.name
FROM sys.indexes i
JOIN sys.tables t ON t.object_id = i.object_id
JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE t.schema_id = SCHEMA_ID(@p1) AND (i.is_primary_key = 1 OR i.is_unique_constraint = 1)
ORDER BY t.name, i.name, ic.key_ordinal`, s.schema)
	if err != nil {
		return fmt.Errorf("%s: read keys: %w", s.t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, name, kind, col string
		if err := rows.Scan(&table, &name, &kind, &col); err != nil {
			return err
		}
		tb := byName[table]
		if tb == nil {
			continue
		}
		if strings.TrimSpace(kind) == "PK" {
			if tb.PrimaryKey == nil {
				tb.PrimaryKey = &pgcatalog.Constraint{Name: name}
			}
			tb.PrimaryKey.Columns = append(tb.PrimaryKey.Columns, col)
			continue
		}
		if n := len(tb.Uniques); n == 0 || tb.Uniques[n-1].Name != name {
			tb.Uniques = append(tb.Uniques, pgcatalog.Constraint{Name: name})
		}
		u := &tb.Uniques[len(tb.Uniques)-1]
		u.Columns = append(u.Columns, col)
	}
	return rows.Err()
}

// nullsNotDistinct marks the unique keys whose NULLs SQL Server treats as
// equal and PostgreSQL would not, so that the export writes them NULLS
// NOT DISTINCT (PostgreSQL 15): every UNIQUE constraint with a nullable
// column (SQL Server's constraints take one NULL), and the unique indexes
// a load made for the dump's NULLS NOT DISTINCT indexes. Other unique
// indexes stay as they were: whether one is filtered cannot be told on
// every server, and a filtered one keeps PostgreSQL's rule.
func (s *sqlExport) nullsNotDistinct(ctx context.Context, byName map[string]*pgcatalog.Table) error {
	recorded, err := recordedIndexes(ctx, s.t.db, nullsNotDistinctList, s.schema)
	if err != nil {
		return err
	}
	for _, tb := range byName {
		for i := range tb.Uniques {
			u := &tb.Uniques[i]
			for _, c := range u.Columns {
				if col := tb.Column(c); col != nil && !col.NotNull {
					u.NullsNotDistinct = true
				}
			}
		}
		for i := range tb.Indexes {
			ix := &tb.Indexes[i]
			ix.NullsNotDistinct = ix.Unique && recorded[tb.Name+"\x00"+ix.Name]
		}
	}
	return nil
}

// notNullTerm is one term of the filter the load puts on a unique index over
// nullable columns, so that NULLs never collide, as in PostgreSQL.
var notNullTerm = regexp.MustCompile(`^\[(?:[^\]]|\]\])+\] IS NOT NULL$`)

// uniqueKeysAsConstraints turns the filtered unique indexes that a load
// made for the dump's UNIQUE constraints back into those constraints.
func (s *sqlExport) uniqueKeysAsConstraints(ctx context.Context, byName map[string]*pgcatalog.Table) error {
	keys, err := recordedIndexes(ctx, s.t.db, uniqueKeyList, s.schema)
	if err != nil || len(keys) == 0 {
		return err
	}
	for _, tb := range byName {
		kept := tb.Indexes[:0]
		for _, ix := range tb.Indexes {
			if !ix.Unique || !keys[tb.Name+"\x00"+ix.Name] || len(ix.Include) > 0 {
				kept = append(kept, ix)
				continue
			}
			c := pgcatalog.Constraint{Name: ix.Name}
			for _, col := range ix.Columns {
				c.Columns = append(c.Columns, col.Name)
			}
			tb.Uniques = append(tb.Uniques, c)
		}
		tb.Indexes = kept
		sort.Slice(tb.Uniques, func(i, j int) bool { return tb.Uniques[i].Name < tb.Uniques[j].Name })
	}
	return nil
}

func (s *sqlExport) readIndexes(ctx context.Context, byName map[string]*pgcatalog.Table) error {
	rows, err := s.t.db.QueryContext(ctx, `SELECT t.name, i.name, i.is_unique, ISNULL(i.filter_definition, N''), c.name, ic.is_descending_key, ic.is_included_column
FROM sys.indexes i
JOIN sys.tables t ON t.object_id = i.object_id
JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE t.schema_id = SCHEMA_ID(@p1) AND i.type > 0 AND i.is_primary_key = 0 AND i.is_unique_constraint = 0 AND i.is_hypothetical = 0
ORDER BY t.name, i.name, ic.is_included_column, ic.key_ordinal, ic.index_column_id`, s.schema)
	if err != nil {
		return fmt.Errorf("%s: read indexes: %w", s.t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, name, filter, col string
		var unique, desc, included bool
		if err := rows.Scan(&table, &name, &unique, &filter, &col, &desc, &included); err != nil {
			return err
		}
		tb := byName[table]
		if tb == nil {
			continue
		}
		if n := len(tb.Indexes); n == 0 || tb.Indexes[n-1].Name != name {
			if err := checkFilter(table, name, unique, filter); err != nil {
				return err
			}
			tb.Indexes = append(tb.Indexes, pgcatalog.Index{Name: name, Unique: unique, Method: "btree"})
		}
		ix := &tb.Indexes[len(tb.Indexes)-1]
		if included {
			ix.Include = append(ix.Include, col)
			continue
		}
		// SQL Server sorts NULLs low, PostgreSQL high: the load dropped the
		// NULLS clause, so the index is PostgreSQL's default for the
		// direction (DESC means NULLS FIRST there).
		ix.Columns = append(ix.Columns, pgcatalog.IndexColumn{Name: col, Descending: desc, NullsFirst: desc})
	}
	return rows.Err()
}

// checkFilter accepts the filter the load adds to unique indexes (every
// key column IS NOT NULL) and refuses any other, which PostgreSQL would
// need as a partial index the export does not write.
func checkFilter(table, index string, unique bool, filter string) error {
	f := unparen(filter)
	if f == "" {
		return nil
	}
	if unique {
		ok := true
		for _, part := range strings.Split(f, " AND ") {
			ok = ok && notNullTerm.MatchString(unparen(part))
		}
		if ok {
			return nil
		}
	}
	return exitcode.With(exitcode.BadInput, fmt.Errorf("table %s, index %s: filtered index (WHERE %s) cannot be exported", table, index, filter))
}

// unparen strips the parentheses SQL Server puts around expressions.
func unparen(s string) string {
	s = strings.TrimSpace(s)
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") && balanced(s[1:len(s)-1]) {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

func balanced(s string) bool {
	depth := 0
	for _, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

func (s *sqlExport) readForeignKeys(ctx context.Context, byName map[string]*pgcatalog.Table) error {
	rows, err := s.t.db.QueryContext(ctx, `SELECT t.name, fk.name, pc.name, rt.name, rc.name, fk.delete_referential_action_desc, fk.update_referential_action_desc
FROM sys.foreign_keys fk
JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.tables t ON t.object_id = fk.parent_object_id
JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id
JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
WHERE t.schema_id = SCHEMA_ID(@p1)
ORDER BY t.name, fk.name, fkc.constraint_column_id`, s.schema)
	if err != nil {
		return fmt.Errorf("%s: read foreign keys: %w", s.t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, name, col, refTable, refCol, onDelete, onUpdate string
		if err := rows.Scan(&table, &name, &col, &refTable, &refCol, &onDelete, &onUpdate); err != nil {
			return err
		}
		tb := byName[table]
		if tb == nil {
			continue
		}
		if n := len(tb.ForeignKeys); n == 0 || tb.ForeignKeys[n-1].Name != name {
			tb.ForeignKeys = append(tb.ForeignKeys, pgcatalog.ForeignKey{Name: name, RefSchema: exportSchemaName, RefTable: refTable,
				OnDelete: strings.ReplaceAll(onDelete, "_", " "), OnUpdate: strings.ReplaceAll(onUpdate, "_", " ")})
		}
		fk := &tb.ForeignKeys[len(tb.ForeignKeys)-1]
		fk.Columns = append(fk.Columns, col)
		fk.RefColumns = append(fk.RefColumns, refCol)
	}
	return rows.Err()
}

func (s *sqlExport) readSequences(ctx context.Context, cat *pgcatalog.Schema) error {
	rows, err := s.t.db.QueryContext(ctx, `SELECT name, CONVERT(bigint, start_value), CONVERT(bigint, increment), CONVERT(bigint, minimum_value),
	CONVERT(bigint, maximum_value), is_cycling, CONVERT(bigint, current_value), CASE WHEN last_used_value IS NULL THEN 0 ELSE 1 END
FROM sys.sequences WHERE schema_id = SCHEMA_ID(@p1) ORDER BY name`, s.schema)
	if err != nil {
		return fmt.Errorf("%s: read sequences: %w", s.t, err)
	}
	defer rows.Close()
	for rows.Next() {
		q := &pgcatalog.Sequence{DataType: "bigint"}
		var used int
		if err := rows.Scan(&q.Name, &q.Start, &q.Increment, &q.Min, &q.Max, &q.Cycle, &q.LastValue, &used); err != nil {
			return err
		}
		// Never used: nextval() returns the start, as NEXT VALUE FOR would.
		if used == 0 {
			q.LastValue, q.IsCalled = q.Start, false
		} else {
			q.IsCalled = true
		}
		cat.Sequences = append(cat.Sequences, q)
	}
	return rows.Err()
}

var (
	sqlNumber   = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)
	sqlString   = regexp.MustCompile(`^N?'((?:[^']|'')*)'$`)
	castLiteral = regexp.MustCompile(`(?i)^CAST\s*\((.*)\s+AS\s+[a-z0-9_ ]+(\([0-9, max]*\))?\)$`)
)

// postgresDefault turns the literal defaults the load writes back into
// PostgreSQL's; any other expression is an error naming it.
func postgresDefault(def string, t pgcatalog.Type) (string, error) {
	expr := unparen(def)
	// A literal cast to a type is still that literal.
	if m := castLiteral.FindStringSubmatch(expr); m != nil {
		expr = unparen(m[1])
	}
	switch {
	case strings.EqualFold(expr, "NULL"):
		return "", nil
	case t.Base == "boolean" && (expr == "1" || expr == "0"):
		if expr == "1" {
			return "true", nil
		}
		return "false", nil
	case sqlNumber.MatchString(expr):
		if strings.HasPrefix(expr, "-") {
			return "'" + expr + "'::" + t.Text, nil
		}
		return expr, nil
	}
	if m := sqlString.FindStringSubmatch(expr); m != nil {
		return "'" + m[1] + "'::" + t.Text, nil
	}
	return "", fmt.Errorf("default %s is not a literal, which the export cannot carry back", def)
}

// CopyTable selects the table's columns and writes each row as COPY text,
// converting every value back to the PostgreSQL type of its column.
func (s *sqlExport) CopyTable(ctx context.Context, table string, w io.Writer) (int64, error) {
	tb := s.es.Table(table)
	if tb == nil {
		return 0, fmt.Errorf("%s: no table %q", s.t, table)
	}
	types := s.types[table]
	names := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		names[i] = c.Name
	}
	conn, err := s.t.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.t, err)
	}
	defer conn.Close()
	var tx *sql.Tx
	if s.snapshot {
		if tx, err = conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSnapshot, ReadOnly: false}); err != nil {
			return 0, fmt.Errorf("%s: start a snapshot transaction: %w", s.t, err)
		}
		defer tx.Rollback()
	}
	query := "SELECT " + quoteList(names) + " FROM " + qualified(s.schema, table)
	var rows *sql.Rows
	if tx != nil {
		rows, err = tx.QueryContext(ctx, query)
	} else {
		rows, err = conn.QueryContext(ctx, query)
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", qualified(s.schema, table), err)
	}
	defer rows.Close()
	raw := make([]any, len(names))
	dest := make([]any, len(names))
	for i := range raw {
		dest[i] = &raw[i]
	}
	var line []byte
	var n int64
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, fmt.Errorf("read %s: %w", qualified(s.schema, table), err)
		}
		line = line[:0]
		for i := range raw {
			if i > 0 {
				line = append(line, '\t')
			}
			if line, err = typemap.AppendCopyText(line, types[i], raw[i]); err != nil {
				return n, exitcode.With(exitcode.BadInput, fmt.Errorf("table %s, column %s, row %d: %w", table, names[i], n+1, err))
			}
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read %s: %w", qualified(s.schema, table), err)
	}
	return n, nil
}
