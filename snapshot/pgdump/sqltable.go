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
// Table constraints are skipped, as are the clauses after a column's type
// (COLLATE, DEFAULT, NOT NULL, GENERATED ...). A table defined without a
// column list (PARTITION OF, OF type) is an error: its columns come from
// elsewhere. A table without columns gives an empty list.
func (e *Entry) TableColumns() ([]Column, error) {
	if e.Desc != "TABLE" {
		return nil, e.sqlError("is not a TABLE entry", e.Defn, 0)
	}
	p := sqlScanner{s: e.Defn}
	if !p.keyword("CREATE") {
		return nil, e.sqlError("table definition does not start with CREATE", e.Defn, p.i)
	}
	p.keyword("UNLOGGED") // the only kind of table with data pg_dump qualifies
	if !p.keyword("TABLE") {
		return nil, e.sqlError("table definition is not a CREATE TABLE statement", e.Defn, p.i)
	}
	if name, ok := p.qualifiedName(); !ok || len(name) > 3 {
		return nil, e.sqlError("CREATE TABLE has no valid table name", e.Defn, p.i)
	}
	if !p.punct('(') {
		return nil, e.sqlError("CREATE TABLE has no column list (a partition or typed table?)", e.Defn, p.i)
	}
	cols := []Column{}
	for {
		if p.punct(')') {
			return cols, nil
		}
		col, isColumn, why := p.tableElement()
		if why != "" {
			return nil, e.sqlError(why, e.Defn, p.i)
		}
		if isColumn {
			cols = append(cols, col)
		}
		if p.punct(',') {
			continue
		}
		if !p.punct(')') {
			return nil, e.sqlError("CREATE TABLE column list is not closed", e.Defn, p.i)
		}
		return cols, nil
	}
}

// tableConstraintWords start an element of the column list that is not a
// column. pg_dump quotes a column with such a name.
var tableConstraintWords = []string{"CONSTRAINT", "CHECK", "PRIMARY", "UNIQUE", "FOREIGN", "EXCLUDE", "LIKE"}

// columnClauseWords end a column's type.
var columnClauseWords = []string{"COLLATE", "DEFAULT", "NOT", "NULL", "CONSTRAINT", "CHECK", "GENERATED",
	"REFERENCES", "PRIMARY", "UNIQUE", "COMPRESSION", "STORAGE"}

// tableElement reads one element of a CREATE TABLE column list, up to the
// comma or parenthesis that ends it. why says what is wrong, if anything,
// at the position.
func (p *sqlScanner) tableElement() (col Column, isColumn bool, why string) {
	for _, w := range tableConstraintWords {
		if p.peekKeyword(w) {
			return Column{}, false, p.skipElement()
		}
	}
	name, ok := p.ident()
	if !ok {
		return Column{}, false, "CREATE TABLE has an invalid column name"
	}
	p.space()
	start := p.i
	typeEnd := -1
	for depth := 0; ; {
		p.space()
		if p.i >= len(p.s) {
			return Column{}, false, fmt.Sprintf("column %q: definition ends unexpectedly", name)
		}
		c := p.s[p.i]
		if depth == 0 && (c == ',' || c == ')') {
			break
		}
		if depth == 0 && typeEnd < 0 {
			for _, w := range columnClauseWords {
				if p.peekKeyword(w) {
					typeEnd = p.i
				}
			}
		}
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		}
		if !p.token() {
			return Column{}, false, fmt.Sprintf("column %q: unterminated quote", name)
		}
	}
	if typeEnd < 0 {
		typeEnd = p.i
	}
	typ := strings.Join(strings.Fields(p.s[start:typeEnd]), " ")
	if typ == "" {
		return Column{}, false, fmt.Sprintf("column %q has no type", name)
	}
	return Column{Name: name, Type: typ}, true, ""
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
	p := sqlScanner{s: e.Defn}
	if !p.alterTable() {
		return "", "", nil, false
	}
	name, ok := p.qualifiedName()
	if !ok || len(name) > 3 || !p.keyword("ADD") || !p.keyword("CONSTRAINT") {
		return "", "", nil, false
	}
	if _, ok := p.ident(); !ok || !p.keyword("PRIMARY") || !p.keyword("KEY") || !p.punct('(') {
		return "", "", nil, false
	}
	for {
		col, ok := p.ident()
		if !ok {
			return "", "", nil, false
		}
		columns = append(columns, col)
		if p.punct(')') {
			break
		}
		if !p.punct(',') {
			return "", "", nil, false
		}
	}
	if len(name) == 2 {
		schema = name[0]
	}
	return schema, name[len(name)-1], columns, true
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

// alterTable reads `ALTER TABLE [ONLY]`, with which pg_dump starts a
// constraint's definition, up to the table's name.
func (p *sqlScanner) alterTable() bool {
	if !p.keyword("ALTER") || !p.keyword("TABLE") {
		return false
	}
	p.keyword("ONLY")
	return true
}
