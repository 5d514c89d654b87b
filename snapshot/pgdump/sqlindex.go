package pgdump

import "strings"

// IndexDef is a CREATE INDEX statement as pg_dump writes it (the text of
// pg_get_indexdef):
//
//	CREATE [UNIQUE] INDEX name ON [ONLY] table USING method (columns)
//	    [INCLUDE (columns)] [NULLS NOT DISTINCT] [WITH (...)] [WHERE (predicate)]
//
// Names are unquoted.
type IndexDef struct {
	Name string
	// Schema ("" when not qualified) and Table name the indexed table.
	Schema, Table string
	Unique        bool
	// Only is ON ONLY: the index of a partitioned table alone.
	Only   bool
	Method string
	// Columns are the key columns, in order.
	Columns []IndexColumnDef
	// Include holds the non-key columns of INCLUDE (...).
	Include          []string
	NullsNotDistinct bool
	// Where is the predicate of a partial index, as written; "" when none.
	Where string
	// Statement is the CREATE INDEX statement, without its semicolon.
	Statement string
	// keysAt is where USING starts in Statement.
	keysAt int
}

// IndexColumnDef is a key column of an index.
type IndexColumnDef struct {
	// Name is the column's name, "" for an expression.
	Name string
	// Expr is the expression, as written, when Name is "".
	Expr string
	// Collation and OpClass are the COLLATE and operator class as
	// written, "" when not given.
	Collation, OpClass string
	Descending         bool
	// NullsFirst is whether NULLs sort first: given by NULLS FIRST or
	// NULLS LAST, else true exactly for DESC, as in PostgreSQL.
	NullsFirst bool
}

// StatementTail returns Statement from USING on: what follows the table
// name.
func (d *IndexDef) StatementTail() string { return d.Statement[d.keysAt:] }

// IndexDefinition reads an INDEX entry's CREATE INDEX statement. What
// follows it in the entry (CLUSTER ON, statistics targets) is not read.
func (e *Entry) IndexDefinition() (*IndexDef, error) {
	if e.Desc != "INDEX" {
		return nil, e.sqlError("is not an INDEX entry", e.Defn, 0)
	}
	p := sqlScanner{s: e.Defn}
	p.space()
	start := p.i
	if !p.keyword("CREATE") {
		return nil, e.sqlError("index definition does not start with CREATE", e.Defn, p.i)
	}
	d := &IndexDef{}
	d.Unique = p.keyword("UNIQUE")
	if !p.keyword("INDEX") {
		return nil, e.sqlError("index definition is not a CREATE INDEX statement", e.Defn, p.i)
	}
	var ok bool
	if d.Name, ok = p.ident(); !ok {
		return nil, e.sqlError("CREATE INDEX has no valid index name", e.Defn, p.i)
	}
	if !p.keyword("ON") {
		return nil, e.sqlError("CREATE INDEX lacks ON after the index name", e.Defn, p.i)
	}
	d.Only = p.keyword("ONLY")
	table, ok := p.qualifiedName()
	if !ok || len(table) > 2 {
		return nil, e.sqlError("CREATE INDEX has no valid table name", e.Defn, p.i)
	}
	d.Table = table[len(table)-1]
	if len(table) == 2 {
		d.Schema = table[0]
	}
	p.space()
	keysAt := p.i
	if !p.keyword("USING") {
		return nil, e.sqlError("CREATE INDEX lacks USING after the table name", e.Defn, p.i)
	}
	if d.Method, ok = p.ident(); !ok {
		return nil, e.sqlError("USING has no valid access method", e.Defn, p.i)
	}
	if !p.punct('(') {
		return nil, e.sqlError("CREATE INDEX has no column list", e.Defn, p.i)
	}
	for {
		col, why := p.indexColumn()
		if why != "" {
			return nil, e.sqlError(why, e.Defn, p.i)
		}
		d.Columns = append(d.Columns, col)
		if p.punct(')') {
			break
		}
		if !p.punct(',') {
			return nil, e.sqlError("CREATE INDEX column list is not closed", e.Defn, p.i)
		}
	}
	for {
		switch {
		case p.keyword("INCLUDE"):
			if d.Include, ok = p.identList(); !ok {
				return nil, e.sqlError("the INCLUDE column list is not valid", e.Defn, p.i)
			}
		case p.keyword("NULLS"):
			if !p.keyword("NOT") || !p.keyword("DISTINCT") {
				return nil, e.sqlError("NULLS is not followed by NOT DISTINCT", e.Defn, p.i)
			}
			d.NullsNotDistinct = true
		case p.keyword("WITH"):
			if _, ok := p.parenthesized(); !ok {
				return nil, e.sqlError("WITH has no valid storage parameters", e.Defn, p.i)
			}
		case p.keyword("TABLESPACE"):
			if _, ok := p.ident(); !ok {
				return nil, e.sqlError("TABLESPACE has no valid name", e.Defn, p.i)
			}
		case p.keyword("WHERE"):
			if d.Where, ok = p.rawUntil(); !ok || d.Where == "" {
				return nil, e.sqlError("WHERE has no valid predicate", e.Defn, p.i)
			}
		default:
			end := p.i
			if !p.statementEnd() {
				return nil, e.sqlError("CREATE INDEX does not end after its clauses", e.Defn, p.i)
			}
			d.Statement = strings.TrimSpace(e.Defn[start:end])
			d.keysAt = keysAt - start
			return d, nil
		}
	}
}

// indexColumn reads one element of an index's column list: a column or
// an expression, then [COLLATE c] [opclass [(params)]] [ASC | DESC]
// [NULLS {FIRST | LAST}].
func (p *sqlScanner) indexColumn() (col IndexColumnDef, why string) {
	p.space()
	start := p.i
	if p.peekPunct('(') {
		if _, ok := p.parenthesized(); !ok {
			return col, "an index expression is not closed"
		}
		col.Expr = p.s[start:p.i]
	} else {
		parts, ok := p.qualifiedName()
		if !ok {
			return col, "the index has an invalid column name"
		}
		if p.peekPunct('(') { // a function call, which pg_get_indexdef leaves bare
			if _, ok := p.parenthesized(); !ok {
				return col, "an index expression is not closed"
			}
			col.Expr = p.s[start:p.i]
		} else if len(parts) > 1 {
			return col, "the index has a qualified column name"
		} else {
			col.Name = parts[0]
		}
	}
	if p.keyword("COLLATE") {
		var ok bool
		if col.Collation, ok = p.rawQualifiedName(); !ok {
			return col, "COLLATE has no valid name"
		}
	}
	if !p.peekKeyword("ASC") && !p.peekKeyword("DESC") && !p.peekKeyword("NULLS") && !p.peekPunct(',') && !p.peekPunct(')') &&
		!p.peekPunct(';') && !p.atEnd() {
		var ok bool
		if col.OpClass, ok = p.rawQualifiedName(); !ok {
			return col, "the index column has an invalid operator class"
		}
		if p.peekPunct('(') {
			start := p.i
			if _, ok := p.parenthesized(); !ok {
				return col, "the operator class parameters are not closed"
			}
			col.OpClass += p.s[start:p.i]
		}
	}
	switch {
	case p.keyword("ASC"):
	case p.keyword("DESC"):
		col.Descending = true
	}
	col.NullsFirst = col.Descending
	if p.keyword("NULLS") {
		switch {
		case p.keyword("FIRST"):
			col.NullsFirst = true
		case p.keyword("LAST"):
			col.NullsFirst = false
		default:
			return col, "NULLS is not followed by FIRST or LAST"
		}
	}
	return col, ""
}
