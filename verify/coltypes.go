package verify

import (
	"errors"
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

// ColumnTypes reads the columns of a TABLE entry's definition, as pg_dump
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
// elsewhere.
func ColumnTypes(createTable string) ([]Column, error) {
	lx := sqlLexer{s: createTable}
	if !lx.keyword("CREATE") {
		return nil, errors.New("table definition does not start with CREATE")
	}
	lx.keyword("UNLOGGED") // the only kind of table with data pg_dump qualifies
	if !lx.keyword("TABLE") {
		return nil, errors.New("not a CREATE TABLE statement")
	}
	if _, ok := lx.qualifiedName(); !ok {
		return nil, errors.New("CREATE TABLE has no valid table name")
	}
	if !lx.punct('(') {
		return nil, fmt.Errorf("CREATE TABLE has no column list at character %d (a partition or typed table?)", lx.i)
	}
	cols := []Column{}
	for {
		if lx.punct(')') {
			return cols, nil
		}
		col, isColumn, err := lx.tableElement()
		if err != nil {
			return nil, err
		}
		if isColumn {
			cols = append(cols, col)
		}
		if lx.punct(',') {
			continue
		}
		if !lx.punct(')') {
			return nil, fmt.Errorf("CREATE TABLE column list is not closed at character %d", lx.i)
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

// tableElement reads one element of the column list, up to the comma or
// parenthesis that ends it.
func (lx *sqlLexer) tableElement() (col Column, isColumn bool, err error) {
	for _, w := range tableConstraintWords {
		if lx.peekKeyword(w) {
			return Column{}, false, lx.skipElement()
		}
	}
	name, ok := lx.ident()
	if !ok {
		return Column{}, false, fmt.Errorf("CREATE TABLE has an invalid column name at character %d", lx.i)
	}
	lx.space()
	start := lx.i
	typeEnd := -1
	for depth := 0; ; {
		lx.space()
		if lx.i >= len(lx.s) {
			return Column{}, false, fmt.Errorf("column %q: definition ends unexpectedly", name)
		}
		c := lx.s[lx.i]
		if depth == 0 && (c == ',' || c == ')') {
			break
		}
		if depth == 0 && typeEnd < 0 {
			for _, w := range columnClauseWords {
				if lx.peekKeyword(w) {
					typeEnd = lx.i
				}
			}
		}
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		}
		if !lx.token() {
			return Column{}, false, fmt.Errorf("column %q: unterminated quote", name)
		}
	}
	if typeEnd < 0 {
		typeEnd = lx.i
	}
	typ := strings.Join(strings.Fields(lx.s[start:typeEnd]), " ")
	if typ == "" {
		return Column{}, false, fmt.Errorf("column %q has no type", name)
	}
	return Column{Name: name, Type: typ}, true, nil
}

// skipElement moves to the comma or parenthesis that ends the element.
func (lx *sqlLexer) skipElement() error {
	for depth := 0; ; {
		lx.space()
		if lx.i >= len(lx.s) {
			return errors.New("CREATE TABLE ends inside its column list")
		}
		switch lx.s[lx.i] {
		case ',', ')':
			if depth == 0 {
				return nil
			}
		}
		switch lx.s[lx.i] {
		case '(':
			depth++
		case ')':
			depth--
		}
		if !lx.token() {
			return errors.New("CREATE TABLE has an unterminated quote")
		}
	}
}

// primaryKey reads a CONSTRAINT entry's definition,
//
//	ALTER TABLE ONLY public."x$y"
//	    ADD CONSTRAINT "x$y_pkey" PRIMARY KEY (id);
//
// and returns the table (schema and name) and the key's columns; ok is
// false for any other constraint.
func primaryKey(defn string) (schema, table string, columns []string, ok bool) {
	lx := sqlLexer{s: defn}
	if !lx.keyword("ALTER") || !lx.keyword("TABLE") {
		return "", "", nil, false
	}
	lx.keyword("ONLY")
	name, ok := lx.qualifiedName()
	if !ok || !lx.keyword("ADD") || !lx.keyword("CONSTRAINT") {
		return "", "", nil, false
	}
	if _, ok := lx.ident(); !ok || !lx.keyword("PRIMARY") || !lx.keyword("KEY") || !lx.punct('(') {
		return "", "", nil, false
	}
	for {
		col, ok := lx.ident()
		if !ok {
			return "", "", nil, false
		}
		columns = append(columns, col)
		if lx.punct(')') {
			break
		}
		if !lx.punct(',') {
			return "", "", nil, false
		}
	}
	if len(name) == 2 {
		schema = name[0]
	}
	return schema, name[len(name)-1], columns, true
}

// sqlLexer reads the few SQL forms pg_dump writes for tables and
// constraints: identifiers (bare or "quoted", "" escaping a quote), string
// literals, and punctuation.
type sqlLexer struct {
	s string
	i int
}

func (lx *sqlLexer) space() {
	for lx.i < len(lx.s) && strings.IndexByte(" \t\r\n", lx.s[lx.i]) >= 0 {
		lx.i++
	}
}

func (lx *sqlLexer) punct(c byte) bool {
	lx.space()
	if lx.i < len(lx.s) && lx.s[lx.i] == c {
		lx.i++
		return true
	}
	return false
}

// peekKeyword reports whether the bare word at the position is word.
func (lx *sqlLexer) peekKeyword(word string) bool {
	lx.space()
	end := lx.i + len(word)
	return end <= len(lx.s) && strings.EqualFold(lx.s[lx.i:end], word) &&
		(end == len(lx.s) || !isSQLIdentByte(lx.s[end]))
}

func (lx *sqlLexer) keyword(word string) bool {
	if !lx.peekKeyword(word) {
		return false
	}
	lx.i += len(word)
	return true
}

// ident reads a bare or quoted identifier.
func (lx *sqlLexer) ident() (string, bool) {
	lx.space()
	if lx.i < len(lx.s) && lx.s[lx.i] == '"' {
		var b strings.Builder
		for j := lx.i + 1; j < len(lx.s); j++ {
			if lx.s[j] != '"' {
				b.WriteByte(lx.s[j])
				continue
			}
			if j+1 < len(lx.s) && lx.s[j+1] == '"' {
				b.WriteByte('"')
				j++
				continue
			}
			lx.i = j + 1
			return b.String(), b.Len() > 0
		}
		return "", false
	}
	start := lx.i
	for lx.i < len(lx.s) && isSQLIdentByte(lx.s[lx.i]) {
		lx.i++
	}
	return lx.s[start:lx.i], lx.i > start
}

// qualifiedName reads name or schema.name.
func (lx *sqlLexer) qualifiedName() ([]string, bool) {
	var parts []string
	for {
		part, ok := lx.ident()
		if !ok {
			return nil, false
		}
		parts = append(parts, part)
		if lx.i >= len(lx.s) || lx.s[lx.i] != '.' {
			return parts, len(parts) <= 3
		}
		lx.i++
	}
}

// token moves past one token: a quoted identifier, a string literal, a
// word or a single other character. It is false for an unterminated
// quote.
func (lx *sqlLexer) token() bool {
	switch c := lx.s[lx.i]; {
	case c == '"':
		_, ok := lx.ident()
		return ok
	case c == '\'':
		return lx.skipLiteral(false)
	case (c == 'E' || c == 'e') && lx.i+1 < len(lx.s) && lx.s[lx.i+1] == '\'':
		lx.i++
		return lx.skipLiteral(true)
	case isSQLIdentByte(c):
		lx.ident()
	default:
		lx.i++
	}
	return true
}

// skipLiteral moves past a string literal; in an E-prefixed one a backslash
// escapes the next character.
func (lx *sqlLexer) skipLiteral(backslashEscapes bool) bool {
	for j := lx.i + 1; j < len(lx.s); j++ {
		switch {
		case backslashEscapes && lx.s[j] == '\\':
			j++
		case lx.s[j] == '\'' && j+1 < len(lx.s) && lx.s[j+1] == '\'':
			j++
		case lx.s[j] == '\'':
			lx.i = j + 1
			return true
		}
	}
	return false
}

func isSQLIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
