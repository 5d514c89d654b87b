package export

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// tableData is a TABLE DATA entry to fill: the table and its dump ID.
type tableData struct {
	table  *pgcatalog.Table
	dumpID int
}

// toc turns a schema into the table of contents pg_dump would write for it
// (pg_dump -O -x: no owners, no privileges), in pg_dump's order: the
// session settings, tables, sequences, sequence ownership and defaults
// (pre-data); table data and sequence values (data); keys, indexes and
// foreign keys (post-data). Every name is quoted.
func toc(s *dbcopy.ExportSchema) ([]pgdump.Entry, []tableData, error) {
	b := &tocBuilder{schema: s.Name, nextID: 1, tableIDs: map[string]int{}, seqIDs: map[string]int{}, keyIDs: map[string]int{}}
	b.add(pgdump.Entry{Tag: "ENCODING", Desc: "ENCODING", Section: pgdump.SectionPreData, Defn: "SET client_encoding = 'UTF8';\n"})
	b.add(pgdump.Entry{Tag: "STDSTRINGS", Desc: "STDSTRINGS", Section: pgdump.SectionPreData, Defn: "SET standard_conforming_strings = 'on';\n"})
	b.add(pgdump.Entry{Tag: "SEARCHPATH", Desc: "SEARCHPATH", Section: pgdump.SectionPreData, Defn: "SELECT pg_catalog.set_config('search_path', '', false);\n"})

	for _, t := range s.Tables {
		defn, err := b.createTable(t, s.Collations[t.Name], s.Checks[t.Name])
		if err != nil {
			return nil, nil, err
		}
		b.tableIDs[t.Name] = b.add(pgdump.Entry{TableOID: "1259", Tag: t.Name, Desc: "TABLE", Section: pgdump.SectionPreData,
			Defn: defn, DropStmt: "DROP TABLE " + b.qualified(t.Name) + ";\n", Namespace: s.Name, TableAM: "heap", RelKind: 'r'})
	}
	for _, q := range s.Sequences {
		b.seqIDs[q.Name] = b.add(pgdump.Entry{TableOID: "1259", Tag: q.Name, Desc: "SEQUENCE", Section: pgdump.SectionPreData,
			Defn: createSequence(b.qualified(q.Name), q), DropStmt: "DROP SEQUENCE " + b.qualified(q.Name) + ";\n",
			Namespace: s.Name, RelKind: 'S'})
	}
	for _, q := range s.Sequences {
		owner, ok := s.SequenceOwners[q.Name]
		if !ok || b.tableIDs[owner.Table] == 0 {
			continue
		}
		b.add(pgdump.Entry{Tag: q.Name, Desc: "SEQUENCE OWNED BY", Section: pgdump.SectionPreData,
			Defn:      fmt.Sprintf("ALTER SEQUENCE %s OWNED BY %s.%s;\n", b.qualified(q.Name), b.qualified(owner.Table), ident(owner.Column)),
			Namespace: s.Name, Dependencies: []int{b.seqIDs[q.Name], b.tableIDs[owner.Table]}})
	}
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			if c.Default == "" || c.Generated != "" {
				continue
			}
			deps := []int{b.tableIDs[t.Name]}
			for _, q := range s.Sequences {
				if strings.Contains(c.Default, q.Name) {
					deps = append(deps, b.seqIDs[q.Name])
				}
			}
			b.add(pgdump.Entry{TableOID: "2604", Tag: t.Name + " " + c.Name, Desc: "DEFAULT", Section: pgdump.SectionPreData,
				Defn:      fmt.Sprintf("ALTER TABLE ONLY %s ALTER COLUMN %s SET DEFAULT %s;\n", b.qualified(t.Name), ident(c.Name), c.Default),
				DropStmt:  fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", b.qualified(t.Name), ident(c.Name)),
				Namespace: s.Name, Dependencies: deps})
		}
	}

	var data []tableData
	for _, t := range s.Tables {
		var cols []string
		for _, c := range copyColumns(t) {
			cols = append(cols, ident(c.Name))
		}
		id := b.add(pgdump.Entry{HadDumper: true, Tag: t.Name, Desc: "TABLE DATA", Section: pgdump.SectionData,
			CopyStmt:  fmt.Sprintf("COPY %s (%s) FROM stdin;\n", b.qualified(t.Name), strings.Join(cols, ", ")),
			Namespace: s.Name, Dependencies: []int{b.tableIDs[t.Name]}})
		data = append(data, tableData{table: t, dumpID: id})
	}
	for _, q := range s.Sequences {
		b.add(pgdump.Entry{Tag: q.Name, Desc: "SEQUENCE SET", Section: pgdump.SectionData,
			Defn: fmt.Sprintf("SELECT pg_catalog.setval(%s, %d, %t);\n", literal(b.qualified(q.Name)), q.LastValue, q.IsCalled),
			// A sequence set after its table's data, as pg_dump orders it.
			Namespace: s.Name, Dependencies: []int{b.seqIDs[q.Name]}})
	}

	for _, t := range s.Tables {
		if t.PrimaryKey != nil {
			b.keyIDs[t.Name+"\x00"+t.PrimaryKey.Name] = b.constraint(t, *t.PrimaryKey, "PRIMARY KEY")
		}
		for _, u := range t.Uniques {
			b.keyIDs[t.Name+"\x00"+u.Name] = b.constraint(t, u, "UNIQUE")
		}
	}
	for _, t := range s.Tables {
		for _, ix := range t.Indexes {
			b.add(pgdump.Entry{TableOID: "1259", Tag: ix.Name, Desc: "INDEX", Section: pgdump.SectionPostData,
				Defn: b.createIndex(t, ix), DropStmt: "DROP INDEX " + b.qualified(ix.Name) + ";\n",
				Namespace: s.Name, Dependencies: []int{b.tableIDs[t.Name]}})
		}
	}
	for _, t := range s.Tables {
		for _, fk := range t.ForeignKeys {
			e, err := b.foreignKey(s, t, fk)
			if err != nil {
				return nil, nil, err
			}
			b.add(e)
		}
	}
	return b.entries, data, nil
}

type tocBuilder struct {
	schema   string
	entries  []pgdump.Entry
	nextID   int
	tableIDs map[string]int
	seqIDs   map[string]int
	keyIDs   map[string]int // table + NUL + constraint name
}

func (b *tocBuilder) add(e pgdump.Entry) int {
	e.DumpID = b.nextID
	b.nextID++
	if e.TableOID == "" {
		e.TableOID = "0"
	}
	e.OID = "0"
	b.entries = append(b.entries, e)
	return e.DumpID
}

func (b *tocBuilder) qualified(name string) string { return ident(b.schema) + "." + ident(name) }

// createTable is the CREATE TABLE pg_dump writes: columns with their types
// and NOT NULL; defaults and keys come in entries of their own.
func (b *tocBuilder) createTable(t *pgcatalog.Table, collations map[string]string, checks []dbcopy.NamedDefinition) (string, error) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "CREATE TABLE %s (\n", b.qualified(t.Name))
	for i, c := range t.Columns {
		if c.Identity != "" {
			return "", exitcode.With(exitcode.BadInput, fmt.Errorf("table %s, column %s: identity columns cannot be exported (Mendix uses sequences instead)", t.Name, c.Name))
		}
		switch c.Type.Kind {
		case 'b', 0:
		default:
			return "", exitcode.With(exitcode.BadInput, fmt.Errorf("table %s, column %s: type %s is a user-defined type (kind %q), which the export does not define; Mendix uses only built-in types",
				t.Name, c.Name, c.Type.Text, c.Type.Kind))
		}
		fmt.Fprintf(&sb, "    %s %s", ident(c.Name), c.Type.Text)
		if coll := collations[c.Name]; coll != "" {
			sb.WriteString(" COLLATE " + coll)
		}
		if c.Generated != "" {
			fmt.Fprintf(&sb, " GENERATED ALWAYS AS (%s) STORED", c.Default)
		}
		if c.NotNull {
			sb.WriteString(" NOT NULL")
		}
		if i < len(t.Columns)-1 || len(checks) > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("\n")
	}
	for i, ch := range checks {
		fmt.Fprintf(&sb, "    CONSTRAINT %s %s", ident(ch.Name), ch.Definition)
		if i < len(checks)-1 {
			sb.WriteString(",")
		}
		sb.WriteString("\n")
	}
	sb.WriteString(");\n")
	return sb.String(), nil
}

// copyColumns are the columns whose values the table's data holds: all
// but the generated ones, which COPY leaves out.
func copyColumns(t *pgcatalog.Table) []pgcatalog.Column {
	var out []pgcatalog.Column
	for _, c := range t.Columns {
		if c.Generated == "" {
			out = append(out, c)
		}
	}
	return out
}

func createSequence(qualified string, q *pgcatalog.Sequence) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "CREATE SEQUENCE %s\n", qualified)
	typ := q.DataType
	if typ == "" {
		typ = "bigint"
	}
	if typ != "bigint" {
		fmt.Fprintf(&sb, "    AS %s\n", typ)
	}
	fmt.Fprintf(&sb, "    START WITH %d\n    INCREMENT BY %d\n", q.Start, q.Increment)
	defMin, defMax := sequenceBounds(typ, q.Increment)
	if q.Min == defMin {
		sb.WriteString("    NO MINVALUE\n")
	} else {
		fmt.Fprintf(&sb, "    MINVALUE %d\n", q.Min)
	}
	if q.Max == defMax {
		sb.WriteString("    NO MAXVALUE\n")
	} else {
		fmt.Fprintf(&sb, "    MAXVALUE %d\n", q.Max)
	}
	sb.WriteString("    CACHE 1")
	if q.Cycle {
		sb.WriteString("\n    CYCLE")
	}
	sb.WriteString(";\n")
	return sb.String()
}

// sequenceBounds are the MINVALUE and MAXVALUE a sequence of typ gets by
// default (NO MINVALUE / NO MAXVALUE).
func sequenceBounds(typ string, increment int64) (lo, hi int64) {
	var max int64 = 1<<63 - 1
	switch typ {
	case "smallint":
		max = 1<<15 - 1
	case "integer":
		max = 1<<31 - 1
	}
	if increment < 0 {
		return -max - 1, -1
	}
	return 1, max
}

func (b *tocBuilder) constraint(t *pgcatalog.Table, c pgcatalog.Constraint, kind string) int {
	cols := make([]string, len(c.Columns))
	for i, name := range c.Columns {
		cols[i] = ident(name)
	}
	if kind == "UNIQUE" && c.NullsNotDistinct {
		kind += " NULLS NOT DISTINCT" // PostgreSQL 15 and later
	}
	return b.add(pgdump.Entry{TableOID: "2606", Tag: t.Name + " " + c.Name, Desc: "CONSTRAINT", Section: pgdump.SectionPostData,
		Defn:      fmt.Sprintf("ALTER TABLE ONLY %s\n    ADD CONSTRAINT %s %s (%s);\n", b.qualified(t.Name), ident(c.Name), kind, strings.Join(cols, ", ")),
		DropStmt:  fmt.Sprintf("ALTER TABLE ONLY %s DROP CONSTRAINT %s;\n", b.qualified(t.Name), ident(c.Name)),
		Namespace: b.schema, Dependencies: []int{b.tableIDs[t.Name]}})
}

// createIndex uses the server's own definition (pg_get_indexdef, a
// PostgreSQL source) or builds it from the key columns (a SQL Server
// source).
func (b *tocBuilder) createIndex(t *pgcatalog.Table, ix pgcatalog.Index) string {
	if ix.Definition != "" {
		return strings.TrimRight(ix.Definition, ";\n ") + ";\n"
	}
	cols := make([]string, len(ix.Columns))
	for i, c := range ix.Columns {
		cols[i] = ident(c.Name)
		if c.Descending {
			cols[i] += " DESC"
			if !c.NullsFirst {
				cols[i] += " NULLS LAST"
			}
		} else if c.NullsFirst {
			cols[i] += " NULLS FIRST"
		}
	}
	unique := ""
	if ix.Unique {
		unique = "UNIQUE "
	}
	method := ix.Method
	if method == "" {
		method = "btree"
	}
	sql := fmt.Sprintf("CREATE %sINDEX %s ON %s USING %s (%s)", unique, ident(ix.Name), b.qualified(t.Name), method, strings.Join(cols, ", "))
	if len(ix.Include) > 0 {
		inc := make([]string, len(ix.Include))
		for i, c := range ix.Include {
			inc[i] = ident(c)
		}
		sql += " INCLUDE (" + strings.Join(inc, ", ") + ")"
	}
	if ix.Unique && ix.NullsNotDistinct {
		sql += " NULLS NOT DISTINCT" // PostgreSQL 15 and later
	}
	return sql + ";\n"
}

func (b *tocBuilder) foreignKey(s *dbcopy.ExportSchema, t *pgcatalog.Table, fk pgcatalog.ForeignKey) (pgdump.Entry, error) {
	refSchema := fk.RefSchema
	if refSchema == "" {
		refSchema = s.Name
	}
	if refSchema != s.Name || b.tableIDs[fk.RefTable] == 0 {
		return pgdump.Entry{}, exitcode.With(exitcode.BadInput, fmt.Errorf("table %s, foreign key %s: references %s.%s, outside the exported schema", t.Name, fk.Name, refSchema, fk.RefTable))
	}
	cols := make([]string, len(fk.Columns))
	for i, c := range fk.Columns {
		cols[i] = ident(c)
	}
	refCols := make([]string, len(fk.RefColumns))
	for i, c := range fk.RefColumns {
		refCols[i] = ident(c)
	}
	sql := fmt.Sprintf("ALTER TABLE ONLY %s\n    ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s(%s)",
		b.qualified(t.Name), ident(fk.Name), strings.Join(cols, ", "), b.qualified(fk.RefTable), strings.Join(refCols, ", "))
	if fk.OnUpdate != "" && fk.OnUpdate != "NO ACTION" {
		sql += " ON UPDATE " + fk.OnUpdate
	}
	if fk.OnDelete != "" && fk.OnDelete != "NO ACTION" {
		sql += " ON DELETE " + fk.OnDelete
	}
	deps := []int{b.tableIDs[t.Name], b.tableIDs[fk.RefTable]}
	// pg_dump makes a foreign key depend on the key it references.
	if ref := s.Table(fk.RefTable); ref != nil {
		var keys []string
		if ref.PrimaryKey != nil && sameColumns(ref.PrimaryKey.Columns, fk.RefColumns) {
			keys = append(keys, ref.PrimaryKey.Name)
		}
		for _, u := range ref.Uniques {
			if sameColumns(u.Columns, fk.RefColumns) {
				keys = append(keys, u.Name)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if id := b.keyIDs[ref.Name+"\x00"+k]; id != 0 {
				deps = append(deps, id)
				break
			}
		}
	}
	return pgdump.Entry{TableOID: "2606", Tag: t.Name + " " + fk.Name, Desc: "FK CONSTRAINT", Section: pgdump.SectionPostData,
		Defn:      sql + ";\n",
		DropStmt:  fmt.Sprintf("ALTER TABLE ONLY %s DROP CONSTRAINT %s;\n", b.qualified(t.Name), ident(fk.Name)),
		Namespace: s.Name, Dependencies: deps}, nil
}

func sameColumns(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ident quotes an identifier as PostgreSQL reads it. It always quotes,
// which is valid for every name (pg_dump leaves plain lower-case names
// bare; both restore the same).
func ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// literal quotes a string literal.
func literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
