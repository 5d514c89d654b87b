package pgdump

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// CopyColumns returns the column names of a TABLE DATA entry's COPY
// statement, e.g. `COPY public."x$y" (id, "order") FROM stdin;` gives
// ["id", "order"]: quoted identifiers are unquoted. A table without
// columns gives an empty list.
func (e *Entry) CopyColumns() ([]string, error) {
	if e.CopyStmt == "" {
		return nil, e.sqlError("has no COPY statement", e.CopyStmt, 0)
	}
	p := sqlScanner{s: e.CopyStmt}
	p.space()
	if !p.keyword("COPY") {
		return nil, e.sqlError("COPY statement does not start with COPY", e.CopyStmt, p.i)
	}
	p.space()
	for {
		if _, ok := p.ident(); !ok {
			return nil, e.sqlError("COPY statement has no valid table name", e.CopyStmt, p.i)
		}
		if !p.consume('.') {
			break
		}
	}
	p.space()
	cols := []string{}
	if p.consume('(') {
		for {
			p.space()
			name, ok := p.ident()
			if !ok {
				return nil, e.sqlError("COPY statement has an invalid column name", e.CopyStmt, p.i)
			}
			cols = append(cols, name)
			p.space()
			if p.consume(',') {
				continue
			}
			if p.consume(')') {
				break
			}
			return nil, e.sqlError("COPY statement's column list is not closed", e.CopyStmt, p.i)
		}
		p.space()
	}
	if !p.keyword("FROM") {
		return nil, e.sqlError("COPY statement lacks FROM after the columns", e.CopyStmt, p.i)
	}
	return cols, nil
}

// SequenceValue returns what a SEQUENCE SET entry sets: its Defn is
// `SELECT pg_catalog.setval('public."x$y_mxseq"', 42, true);`. name is the
// sequence as pg_dump wrote it in the literal, schema-qualified and quoted
// where needed (ready to use in SQL); Namespace and Tag hold the bare
// names. isCalled false means the next nextval returns value itself.
func (e *Entry) SequenceValue() (name string, value int64, isCalled bool, err error) {
	if e.Desc != "SEQUENCE SET" {
		return "", 0, false, e.sqlError("is not a SEQUENCE SET entry", e.Defn, 0)
	}
	p := sqlScanner{s: e.Defn}
	p.space()
	if !p.keyword("SELECT") {
		return "", 0, false, e.sqlError("sequence value does not start with SELECT", e.Defn, p.i)
	}
	p.space()
	if !p.keyword("pg_catalog.setval") {
		return "", 0, false, e.sqlError("sequence value does not call pg_catalog.setval", e.Defn, p.i)
	}
	p.space()
	if !p.consume('(') {
		return "", 0, false, e.sqlError("setval lacks its (", e.Defn, p.i)
	}
	p.space()
	name, ok := p.stringLiteral()
	if !ok {
		return "", 0, false, e.sqlError("setval's first argument is not a string literal", e.Defn, p.i)
	}
	p.space()
	if !p.consume(',') {
		return "", 0, false, e.sqlError("setval has no value argument", e.Defn, p.i)
	}
	p.space()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	value, perr := strconv.ParseInt(p.s[start:p.i], 10, 64)
	if perr != nil {
		return "", 0, false, e.sqlError("setval's value is not a 64-bit integer", e.Defn, start)
	}
	p.space()
	if !p.consume(',') {
		return "", 0, false, e.sqlError("setval has no is_called argument", e.Defn, p.i)
	}
	p.space()
	switch {
	case p.keyword("true"):
		isCalled = true
	case p.keyword("false"):
	default:
		return "", 0, false, e.sqlError("setval's is_called is neither true nor false", e.Defn, p.i)
	}
	p.space()
	if !p.consume(')') {
		return "", 0, false, e.sqlError("setval lacks its )", e.Defn, p.i)
	}
	return name, value, isCalled, nil
}

func (e *Entry) sqlError(why, stmt string, at int) error {
	return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: %s (at character %d of %q)", e, why, at, stmt))
}

// sqlScanner reads the few SQL tokens that pg_dump's COPY and setval
// statements are made of.
type sqlScanner struct {
	s string
	i int
}

func (p *sqlScanner) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *sqlScanner) consume(b byte) bool {
	if p.i < len(p.s) && p.s[p.i] == b {
		p.i++
		return true
	}
	return false
}

// keyword consumes word, case-insensitively, if it stands alone.
func (p *sqlScanner) keyword(word string) bool {
	end := p.i + len(word)
	if end > len(p.s) || !strings.EqualFold(p.s[p.i:end], word) {
		return false
	}
	if end < len(p.s) && isIdentByte(p.s[end]) {
		return false
	}
	p.i = end
	return true
}

// ident reads an identifier: "quoted" (with "" for a quote) or a bare
// word, which pg_dump only leaves unquoted when it is already lower case.
func (p *sqlScanner) ident() (string, bool) {
	if p.consume('"') {
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			if c != '"' {
				b.WriteByte(c)
				continue
			}
			if !p.consume('"') {
				return b.String(), b.Len() > 0
			}
			b.WriteByte('"')
		}
		return "", false // no closing quote
	}
	start := p.i
	for p.i < len(p.s) && isIdentByte(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], p.i > start
}

// stringLiteral reads a quoted literal, where a doubled quote stands for
// one, or an E-prefixed literal whose backslashes escape the next
// character, as pg_dump writes when standard_conforming_strings is off.
func (p *sqlScanner) stringLiteral() (string, bool) {
	escaped := false
	if p.i+1 < len(p.s) && (p.s[p.i] == 'E' || p.s[p.i] == 'e') && p.s[p.i+1] == '\'' {
		escaped = true
		p.i++
	}
	if !p.consume('\'') {
		return "", false
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case escaped && c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '\'':
			if !p.consume('\'') {
				return b.String(), true
			}
			b.WriteByte('\'')
		default:
			b.WriteByte(c)
		}
	}
	return "", false // no closing quote
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
