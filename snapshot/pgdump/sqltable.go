package pgdump

import (
	"fmt"
	"strings"
)

// Column is one column of a table as the dump defines it.
type Column struct {
	Name string
	// Type is the PostgreSQL type as pg_dump writes it (format_type), e.g.
	// "numeric(28,8)" or "timestamp without time zone".
	Type string
}

// TableColumns reads the columns of a TABLE entry's definition, as pg_dump
// writes it:
//
//	CREATE TABLE public."myfirstmodule$order" (
//	    id bigint NOT NULL,
//	    "order" character varying(200),
//	    total numeric(28,8) DEFAULT 0,
//	    CONSTRAINT positive CHECK ((total >= (0)::numeric))
//	);
//
// It is TableDefinition's columns, names and types only. A table defined
// without a column list (PARTITION OF, OF type) is an error: its columns
// come from elsewhere. A table without columns gives an empty list.
func (e *Entry) TableColumns() ([]Column, error) {
	def, err := e.TableDefinition()
	if err != nil {
		return nil, err
	}
	if !def.hasColumnList {
		return nil, e.sqlError("CREATE TABLE has no column list (a partition or typed table?)", e.Defn, 0)
	}
	cols := make([]Column, len(def.Columns))
	for i, c := range def.Columns {
		cols[i] = Column{Name: c.Name, Type: c.Type}
	}
	return cols, nil
}

// TableDef is a CREATE TABLE statement as pg_dump writes it. Names are
// unquoted.
type TableDef struct {
	Schema string // "" when the name is not qualified
	Name   string
	// Unlogged is CREATE UNLOGGED TABLE.
	Unlogged bool
	Columns  []ColumnDef // in order; empty, not nil, for a table without columns
	// Checks are the CHECK constraints of the column list.
	Checks []CheckDef
	// OtherConstraints are any other table constraints of the column list
	// (pg_dump writes them as separate entries), as written.
	OtherConstraints []string
	// PartitionOf is the parent, as written, of a partition: a table
	// written as PARTITION OF parent (pg_dump 10, 11), which has no column
	// list, or one that an ATTACH PARTITION after the CREATE TABLE in the
	// same entry attaches (pg_dump 12, 13). OfType is the type of a typed
	// table (OF type), which has no column list either.
	PartitionOf, OfType string
	// Inherits lists the parents of INHERITS (...), as written: such a
	// table also has the parents' columns.
	Inherits []string
	// PartitionBy is the partition key of a partitioned table, e.g.
	// "RANGE (k)", "" for other tables.
	PartitionBy string

	hasColumnList bool
}

// ColumnDef is a column of a CREATE TABLE statement.
type ColumnDef struct {
	Name string
	// Type is the type as pg_dump writes it (format_type with an empty
	// search_path), e.g. "numeric(28,8)", "public.mood[]".
	Type string
	// Collation is COLLATE's name as written, "" when there is none.
	Collation string
	NotNull   bool
	// Default is DEFAULT's expression or, for a generated column, the
	// generation expression, as pg_get_expr printed it; "" when none.
	Default string
	// Generated is "s" for GENERATED ALWAYS AS (...) STORED, "" otherwise.
	Generated string
	// Identity is "a" (ALWAYS) or "d" (BY DEFAULT) for a column declared
	// GENERATED ... AS IDENTITY in the statement itself; pg_dump adds
	// identity in the column's SEQUENCE entry instead (SequenceDefinition).
	Identity string
}

// CheckDef is a CHECK constraint.
type CheckDef struct {
	Name string // "" when unnamed
	// Expr is the condition inside CHECK (...), as written.
	Expr      string
	NoInherit bool
	NotValid  bool
}

// TableDefinition reads a TABLE entry's CREATE TABLE statement: the
// columns with their type, collation, NOT NULL, DEFAULT and generation
// expression, and the table constraints written inline. Of the statements
// that follow it in the entry, only an ATTACH PARTITION of the table is
// read; the others are storage and statistics settings.
func (e *Entry) TableDefinition() (*TableDef, error) {
	if e.Desc != "TABLE" {
		return nil, e.sqlError("is not a TABLE entry", e.Defn, 0)
	}
	p := sqlScanner{s: e.Defn}
	if !p.keyword("CREATE") {
		return nil, e.sqlError("table definition does not start with CREATE", e.Defn, p.i)
	}
	def := &TableDef{Columns: []ColumnDef{}}
	def.Unlogged = p.keyword("UNLOGGED") // the only kind of table with data pg_dump qualifies
	if !p.keyword("TABLE") {
		return nil, e.sqlError("table definition is not a CREATE TABLE statement", e.Defn, p.i)
	}
	name, ok := p.qualifiedName()
	if !ok || len(name) > 3 {
		return nil, e.sqlError("CREATE TABLE has no valid table name", e.Defn, p.i)
	}
	def.Name = name[len(name)-1]
	if len(name) > 1 {
		def.Schema = name[len(name)-2]
	}
	switch {
	case p.keyword("PARTITION"):
		if !p.keyword("OF") {
			return nil, e.sqlError("CREATE TABLE lacks OF after PARTITION", e.Defn, p.i)
		}
		parent, ok := p.rawQualifiedName()
		if !ok {
			return nil, e.sqlError("CREATE TABLE PARTITION OF has no valid parent name", e.Defn, p.i)
		}
		def.PartitionOf = parent
		return def, nil
	case p.keyword("OF"):
		typ, ok := p.rawQualifiedName()
		if !ok {
			return nil, e.sqlError("CREATE TABLE OF has no valid type name", e.Defn, p.i)
		}
		def.OfType = typ
		return def, nil
	}
	if !p.punct('(') {
		return nil, e.sqlError("CREATE TABLE has no column list (a partition or typed table?)", e.Defn, p.i)
	}
	def.hasColumnList = true
	if !p.punct(')') {
		for {
			if why := p.tableElement(def); why != "" {
				return nil, e.sqlError(why, e.Defn, p.i)
			}
			if p.punct(',') {
				continue
			}
			if !p.punct(')') {
				return nil, e.sqlError("CREATE TABLE column list is not closed", e.Defn, p.i)
			}
			break
		}
	}
	if p.keyword("INHERITS") {
		if !p.punct('(') {
			return nil, e.sqlError("INHERITS lacks its (", e.Defn, p.i)
		}
		for {
			parent, ok := p.rawQualifiedName()
			if !ok {
				return nil, e.sqlError("INHERITS has an invalid table name", e.Defn, p.i)
			}
			def.Inherits = append(def.Inherits, parent)
			if p.punct(')') {
				break
			}
			if !p.punct(',') {
				return nil, e.sqlError("INHERITS list is not closed", e.Defn, p.i)
			}
		}
	}
	if p.keyword("PARTITION") {
		if !p.keyword("BY") {
			return nil, e.sqlError("CREATE TABLE lacks BY after PARTITION", e.Defn, p.i)
		}
		key, ok := p.rawUntil("WITH", "USING", "TABLESPACE", "SERVER", "OPTIONS")
		if !ok || key == "" {
			return nil, e.sqlError("PARTITION BY has no valid key", e.Defn, p.i)
		}
		def.PartitionBy = key
	}
	if p.keyword("WITH") {
		if _, ok := p.parenthesized(); !ok {
			return nil, e.sqlError("WITH has no valid storage parameters", e.Defn, p.i)
		}
	}
	if !p.statementEnd() {
		return nil, e.sqlError("CREATE TABLE does not end after its column list and options", e.Defn, p.i)
	}
	if why := p.attachedTo(def); why != "" {
		return nil, e.sqlError(why, e.Defn, p.i)
	}
	return def, nil
}

// attachedTo reads the statements after CREATE TABLE for the one that
// makes the table a partition, which pg_dump 12 and 13 write there (later
// versions write a TABLE ATTACH entry):
//
//	ALTER TABLE ONLY public.parent ATTACH PARTITION public.child FOR VALUES ...;
//
// The other statements (storage and statistics settings) are passed over.
func (p *sqlScanner) attachedTo(def *TableDef) (why string) {
	for !p.atEnd() {
		start := p.i
		if p.alterTable() {
			parent, ok := p.rawQualifiedName()
			if ok && p.keyword("ATTACH") && p.keyword("PARTITION") {
				child, ok := p.qualifiedName()
				if ok && child[len(child)-1] == def.Name {
					def.PartitionOf = parent
				}
			}
		}
		p.i = start
		for {
			if _, ok := p.raw(false, nil); !ok {
				return "a statement after CREATE TABLE has an unterminated quote or parenthesis"
			}
			if p.atEnd() || p.punct(';') {
				break
			}
			p.i++ // a parenthesis that closes none
		}
	}
	return ""
}

// tableConstraintWords start an element of the column list that is not a
// column. pg_dump quotes a column with such a name.
var tableConstraintWords = []string{"CONSTRAINT", "CHECK", "PRIMARY", "UNIQUE", "FOREIGN", "LIKE", "NOT"}

// columnClauseWords end a column's type.
var columnClauseWords = []string{"COLLATE", "DEFAULT", "NOT", "NULL", "CONSTRAINT", "CHECK", "GENERATED",
	"REFERENCES", "PRIMARY", "UNIQUE", "COMPRESSION", "STORAGE"}

// tableElement reads one element of a CREATE TABLE column list into def,
// up to the comma or parenthesis that ends it. It returns what is wrong,
// if anything, at the position.
func (p *sqlScanner) tableElement(def *TableDef) (why string) {
	for _, w := range tableConstraintWords {
		if p.peekKeyword(w) {
			return p.tableConstraint(def)
		}
	}
	if p.peekKeyword("EXCLUDE") { // an unreserved word: also a column's name
		start := p.i
		p.keyword("EXCLUDE")
		isConstraint := p.peekKeyword("USING") || p.peekPunct('(')
		p.i = start
		if isConstraint {
			return p.tableConstraint(def)
		}
	}
	name, ok := p.ident()
	if !ok {
		return "CREATE TABLE has an invalid column name"
	}
	col := ColumnDef{Name: name}
	typ, ok := p.rawUntil(columnClauseWords...)
	if !ok {
		return fmt.Sprintf("column %q: unterminated quote", name)
	}
	if p.i >= len(p.s) {
		return fmt.Sprintf("column %q: definition ends unexpectedly", name)
	}
	col.Type = strings.Join(strings.Fields(typ), " ")
	if col.Type == "" {
		return fmt.Sprintf("column %q has no type", name)
	}
	if why := p.columnClauses(&col); why != "" {
		if p.atEnd() {
			return fmt.Sprintf("column %q: definition ends unexpectedly", name)
		}
		return why
	}
	def.Columns = append(def.Columns, col)
	return ""
}

// columnClauses reads what follows a column's type, as pg_dump writes it
// (COMPRESSION, COLLATE, DEFAULT or GENERATED, NOT NULL, in an order that
// varies between versions).
func (p *sqlScanner) columnClauses(col *ColumnDef) (why string) {
	for {
		p.space()
		if p.i >= len(p.s) {
			return fmt.Sprintf("column %q: definition ends unexpectedly", col.Name)
		}
		if c := p.s[p.i]; c == ',' || c == ')' {
			return ""
		}
		switch {
		case p.keyword("COLLATE"):
			coll, ok := p.rawQualifiedName()
			if !ok {
				return fmt.Sprintf("column %q: COLLATE has no valid name", col.Name)
			}
			col.Collation = coll
		case p.keyword("COMPRESSION"), p.keyword("STORAGE"):
			if _, ok := p.ident(); !ok {
				return fmt.Sprintf("column %q: COMPRESSION or STORAGE has no method", col.Name)
			}
		case p.keyword("DEFAULT"):
			expr, ok := p.rawUntil("NOT", "COLLATE", "CONSTRAINT", "CHECK", "GENERATED", "REFERENCES", "PRIMARY", "UNIQUE")
			if !ok {
				return fmt.Sprintf("column %q: unterminated quote", col.Name)
			}
			if expr == "" {
				return fmt.Sprintf("column %q: DEFAULT has no expression", col.Name)
			}
			col.Default = expr
		case p.keyword("NOT"):
			if !p.keyword("NULL") {
				return fmt.Sprintf("column %q: NOT is not followed by NULL", col.Name)
			}
			col.NotNull = true
		case p.keyword("NULL"):
		case p.keyword("CONSTRAINT"):
			// A named column constraint: its name, then the constraint,
			// read on the next turn.
			if _, ok := p.ident(); !ok {
				return fmt.Sprintf("column %q: CONSTRAINT has no valid name", col.Name)
			}
		case p.keyword("CHECK"):
			if _, ok := p.parenthesized(); !ok {
				return fmt.Sprintf("column %q: CHECK has no valid condition", col.Name)
			}
			p.keyword("NO") // NO INHERIT
			p.keyword("INHERIT")
			p.keyword("NOT") // NOT VALID
			p.keyword("VALID")
		case p.keyword("GENERATED"):
			if why := p.generated(col); why != "" {
				return why
			}
		default:
			return fmt.Sprintf("column %q: unexpected clause after the type", col.Name)
		}
	}
}

// generated reads what follows GENERATED in a column definition: ALWAYS AS
// (expr) STORED, or {ALWAYS | BY DEFAULT} AS IDENTITY [(options)].
func (p *sqlScanner) generated(col *ColumnDef) (why string) {
	identity := "a"
	if p.keyword("BY") {
		if !p.keyword("DEFAULT") {
			return fmt.Sprintf("column %q: GENERATED BY lacks DEFAULT", col.Name)
		}
		identity = "d"
	} else if !p.keyword("ALWAYS") {
		return fmt.Sprintf("column %q: GENERATED lacks ALWAYS or BY DEFAULT", col.Name)
	}
	if !p.keyword("AS") {
		return fmt.Sprintf("column %q: GENERATED lacks AS", col.Name)
	}
	if p.keyword("IDENTITY") {
		if p.peekPunct('(') {
			if _, ok := p.parenthesized(); !ok {
				return fmt.Sprintf("column %q: identity options are not closed", col.Name)
			}
		}
		col.Identity = identity
		return ""
	}
	if identity != "a" {
		return fmt.Sprintf("column %q: GENERATED BY DEFAULT is not followed by AS IDENTITY", col.Name)
	}
	expr, ok := p.parenthesized()
	if !ok || expr == "" {
		return fmt.Sprintf("column %q: GENERATED ALWAYS AS has no valid expression", col.Name)
	}
	if !p.keyword("STORED") {
		return fmt.Sprintf("column %q: generated column is not STORED", col.Name)
	}
	col.Default, col.Generated = expr, "s"
	return ""
}

// tableConstraint reads a table constraint of the column list.
func (p *sqlScanner) tableConstraint(def *TableDef) (why string) {
	start := p.i
	var check CheckDef
	if p.keyword("CONSTRAINT") {
		name, ok := p.ident()
		if !ok {
			return "CREATE TABLE has a constraint without a valid name"
		}
		check.Name = name
	}
	if p.keyword("CHECK") {
		expr, ok := p.parenthesized()
		if !ok {
			p.i = start
			if why := p.skipElement(); why != "" {
				return why
			}
			return fmt.Sprintf("CHECK constraint %q has no valid condition", check.Name)
		}
		check.Expr = expr
		if p.keyword("NO") {
			if !p.keyword("INHERIT") {
				return fmt.Sprintf("CHECK constraint %q: NO is not followed by INHERIT", check.Name)
			}
			check.NoInherit = true
		}
		if p.keyword("NOT") {
			if !p.keyword("VALID") {
				return fmt.Sprintf("CHECK constraint %q: NOT is not followed by VALID", check.Name)
			}
			check.NotValid = true
		}
		p.space()
		if p.i < len(p.s) && (p.s[p.i] == ',' || p.s[p.i] == ')') {
			def.Checks = append(def.Checks, check)
			return ""
		}
	}
	p.i = start
	if why := p.skipElement(); why != "" {
		return why
	}
	def.OtherConstraints = append(def.OtherConstraints, strings.TrimSpace(p.s[start:p.i]))
	return ""
}

// skipElement moves to the comma or parenthesis that ends a column list
// element, returning what is wrong if there is none.
func (p *sqlScanner) skipElement() (why string) {
	for depth := 0; ; {
		p.space()
		if p.i >= len(p.s) {
			return "CREATE TABLE ends inside its column list"
		}
		switch p.s[p.i] {
		case ',', ')':
			if depth == 0 {
				return ""
			}
		}
		switch p.s[p.i] {
		case '(':
			depth++
		case ')':
			depth--
		}
		if !p.token() {
			return "CREATE TABLE has an unterminated quote"
		}
	}
}

// PrimaryKeyColumns reads a CONSTRAINT entry's definition,
//
//	ALTER TABLE ONLY public."x$y"
//	    ADD CONSTRAINT "x$y_pkey" PRIMARY KEY (id);
//
// and returns the table (its schema, "" when the name is not qualified by
// one, and its name) and the key's columns; ok is false for any other
// constraint or entry.
func (e *Entry) PrimaryKeyColumns() (schema, table string, columns []string, ok bool) {
	if e.Desc != "CONSTRAINT" {
		return "", "", nil, false
	}
	c, err := e.ConstraintDefinition()
	if err != nil || c.Kind != 'p' {
		return "", "", nil, false
	}
	return c.Schema, c.Table, c.Columns, true
}

// OwningTable returns the table an INDEX, CONSTRAINT or FK CONSTRAINT entry
// belongs to, unqualified and unquoted, from its definition:
//
//	CREATE INDEX "idx_x$y_name" ON public."x$y" USING btree (name);
//	CREATE UNIQUE INDEX p_key ON ONLY public.p USING btree (id);
//	ALTER TABLE ONLY public."x$y"
//	    ADD CONSTRAINT "x$y_pkey" PRIMARY KEY (id);
func (e *Entry) OwningTable() (string, error) {
	p := sqlScanner{s: e.Defn}
	var name []string
	var ok bool
	switch e.Desc {
	case "INDEX":
		if !p.keyword("CREATE") {
			return "", e.sqlError("index definition does not start with CREATE", e.Defn, p.i)
		}
		p.keyword("UNIQUE")
		if !p.keyword("INDEX") {
			return "", e.sqlError("index definition is not a CREATE INDEX statement", e.Defn, p.i)
		}
		if _, ok := p.ident(); !ok {
			return "", e.sqlError("CREATE INDEX has no valid index name", e.Defn, p.i)
		}
		if !p.keyword("ON") {
			return "", e.sqlError("CREATE INDEX lacks ON after the index name", e.Defn, p.i)
		}
		p.keyword("ONLY") // an index of a partitioned table
		name, ok = p.qualifiedName()
	case "CONSTRAINT", "FK CONSTRAINT":
		if !p.alterTable() {
			return "", e.sqlError("constraint definition does not start with ALTER TABLE", e.Defn, p.i)
		}
		name, ok = p.qualifiedName()
	default:
		return "", e.sqlError("is not an INDEX, CONSTRAINT or FK CONSTRAINT entry", e.Defn, 0)
	}
	if !ok {
		return "", e.sqlError("definition has no valid table name", e.Defn, p.i)
	}
	return name[len(name)-1], nil
}

// ConstraintName returns a CONSTRAINT or FK CONSTRAINT entry's own name:
// pg_dump tags these entries with the table's name, a space and the
// constraint's name. It is the tag as it is for any other entry, or when
// the definition does not name the table.
func (e *Entry) ConstraintName() string {
	if e.Desc != "CONSTRAINT" && e.Desc != "FK CONSTRAINT" {
		return e.Tag
	}
	table, err := e.OwningTable()
	if err != nil {
		return e.Tag
	}
	return strings.TrimPrefix(e.Tag, table+" ")
}

// alterTable reads `ALTER [FOREIGN] TABLE [ONLY]`, with which pg_dump
// starts a constraint's or a default's definition, up to the table's name.
func (p *sqlScanner) alterTable() bool {
	if !p.keyword("ALTER") {
		return false
	}
	p.keyword("FOREIGN")
	if !p.keyword("TABLE") {
		return false
	}
	p.keyword("ONLY")
	return true
}
