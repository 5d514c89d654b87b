package pgdump

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// This file and sqltable.go read the SQL text pg_dump stores in TOC
// entries (Defn, CopyStmt): the few statement shapes pg_dump writes, not
// SQL in general. Everything that parses that text belongs here, on one
// scanner, sqlScanner.

// CopyColumns returns the column names of a TABLE DATA entry's COPY
// statement, e.g. `COPY public."x$y" (id, "order") FROM stdin;` gives
// ["id", "order"]: quoted identifiers are unquoted. A table without
// columns gives an empty list.
func (e *Entry) CopyColumns() ([]string, error) {
	if e.CopyStmt == "" {
		return nil, e.sqlError("has no COPY statement", e.CopyStmt, 0)
	}
	p := sqlScanner{s: e.CopyStmt}
	if !p.keyword("COPY") {
		return nil, e.sqlError("COPY statement does not start with COPY", e.CopyStmt, p.i)
	}
	if _, ok := p.qualifiedName(); !ok {
		return nil, e.sqlError("COPY statement has no valid table name", e.CopyStmt, p.i)
	}
	cols := []string{}
	if p.punct('(') {
		for {
			name, ok := p.ident()
			if !ok {
				return nil, e.sqlError("COPY statement has an invalid column name", e.CopyStmt, p.i)
			}
			cols = append(cols, name)
			if p.punct(',') {
				continue
			}
			if p.punct(')') {
				break
			}
			return nil, e.sqlError("COPY statement's column list is not closed", e.CopyStmt, p.i)
		}
	}
	if !p.keyword("FROM") {
		return nil, e.sqlError("COPY statement lacks FROM after the columns", e.CopyStmt, p.i)
	}
	return cols, nil
}

// SequenceValue returns what a SEQUENCE SET entry sets: its Defn is
// `SELECT pg_catalog.setval('public."x$y_mxseq"', 42, true);`. name is the
// sequence as pg_dump wrote it in the literal, schema-qualified and quoted
// where needed (ready to use in SQL; UnqualifiedName gives the bare name);
// Namespace and Tag hold the bare names. isCalled false means the next
// nextval returns value itself.
func (e *Entry) SequenceValue() (name string, value int64, isCalled bool, err error) {
	if e.Desc != "SEQUENCE SET" {
		return "", 0, false, e.sqlError("is not a SEQUENCE SET entry", e.Defn, 0)
	}
	p := sqlScanner{s: e.Defn}
	if !p.keyword("SELECT") {
		return "", 0, false, e.sqlError("sequence value does not start with SELECT", e.Defn, p.i)
	}
	if !p.keyword("pg_catalog.setval") {
		return "", 0, false, e.sqlError("sequence value does not call pg_catalog.setval", e.Defn, p.i)
	}
	if !p.punct('(') {
		return "", 0, false, e.sqlError("setval lacks its (", e.Defn, p.i)
	}
	name, ok := p.stringLiteral()
	if !ok {
		return "", 0, false, e.sqlError("setval's first argument is not a string literal", e.Defn, p.i)
	}
	if !p.punct(',') {
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
	if !p.punct(',') {
		return "", 0, false, e.sqlError("setval has no is_called argument", e.Defn, p.i)
	}
	switch {
	case p.keyword("true"):
		isCalled = true
	case p.keyword("false"):
	default:
		return "", 0, false, e.sqlError("setval's is_called is neither true nor false", e.Defn, p.i)
	}
	if !p.punct(')') {
		return "", 0, false, e.sqlError("setval lacks its )", e.Defn, p.i)
	}
	return name, value, isCalled, nil
}

// UnqualifiedName returns the last part of a qualified name as SQL writes
// it, unquoted: `public."x$y"` gives x$y, "public.x" gives x. It reads as
// far as it can: a name whose first part is not an identifier comes back
// as it is.
func UnqualifiedName(qualified string) string {
	p := sqlScanner{s: qualified}
	last := qualified
	for {
		part, ok := p.ident()
		if !ok {
			return last
		}
		last = part
		if !p.punct('.') {
			return last
		}
	}
}

func (e *Entry) sqlError(why, stmt string, at int) error {
	return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: %s (at character %d of %q)", e, why, at, stmt))
}

// sqlScanner reads the tokens of pg_dump's statements: keywords,
// identifiers (bare, or "quoted" with "" for a quote), string literals and
// punctuation. Each reader skips the white space before its token and
// reports whether the token was there; when it was not, the position is
// left at the start of what stands there instead. Nothing reads past the
// end of s, whatever it holds.
type sqlScanner struct {
	s string
	i int
}

func (p *sqlScanner) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// punct consumes the character c.
func (p *sqlScanner) punct(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// peekKeyword reports whether the bare word at the position is word, in
// any case, without consuming it.
func (p *sqlScanner) peekKeyword(word string) bool {
	p.space()
	end := p.i + len(word)
	return end <= len(p.s) && strings.EqualFold(p.s[p.i:end], word) &&
		(end == len(p.s) || !isIdentByte(p.s[end]))
}

// keyword consumes word, case-insensitively, if it stands alone. pg_dump
// quotes an identifier that is a reserved word, so a keyword cannot be
// mistaken for a name.
func (p *sqlScanner) keyword(word string) bool {
	if !p.peekKeyword(word) {
		return false
	}
	p.i += len(word)
	return true
}

// ident reads an identifier: "quoted" (with "" for a quote; an empty one
// is not an identifier) or a bare word, which pg_dump only leaves unquoted
// when it is already lower case.
func (p *sqlScanner) ident() (string, bool) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		for j := p.i + 1; j < len(p.s); j++ {
			if p.s[j] != '"' {
				b.WriteByte(p.s[j])
				continue
			}
			if j+1 < len(p.s) && p.s[j+1] == '"' {
				b.WriteByte('"')
				j++
				continue
			}
			if b.Len() == 0 {
				return "", false
			}
			p.i = j + 1
			return b.String(), true
		}
		return "", false // no closing quote
	}
	start := p.i
	for p.i < len(p.s) && isIdentByte(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], p.i > start
}

// qualifiedName reads a name and the dotted names after it, e.g.
// public."x$y", returning the parts unquoted.
func (p *sqlScanner) qualifiedName() ([]string, bool) {
	var parts []string
	for {
		part, ok := p.ident()
		if !ok {
			return nil, false
		}
		parts = append(parts, part)
		if !p.punct('.') {
			return parts, true
		}
	}
}

// stringLiteral reads a quoted literal, where a doubled quote stands for
// one, or an E-prefixed literal whose backslashes escape the next
// character, as pg_dump writes when standard_conforming_strings is off.
func (p *sqlScanner) stringLiteral() (string, bool) {
	p.space()
	j := p.i
	escaped := false
	if j+1 < len(p.s) && (p.s[j] == 'E' || p.s[j] == 'e') && p.s[j+1] == '\'' {
		escaped = true
		j++
	}
	if j >= len(p.s) || p.s[j] != '\'' {
		return "", false
	}
	var b strings.Builder
	for j++; j < len(p.s); j++ {
		c := p.s[j]
		switch {
		case escaped && c == '\\' && j+1 < len(p.s):
			j++
			b.WriteByte(p.s[j])
		case c == '\'' && j+1 < len(p.s) && p.s[j+1] == '\'':
			j++
			b.WriteByte('\'')
		case c == '\'':
			p.i = j + 1
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return "", false // no closing quote
}

// token moves past one token at the position (which must be before the
// end): a quoted identifier, a string literal, a word or a single other
// character. It is false for an unterminated quote.
func (p *sqlScanner) token() bool {
	switch c := p.s[p.i]; {
	case c == '"':
		_, ok := p.ident()
		return ok
	case c == '\'' || (c == 'E' || c == 'e') && p.i+1 < len(p.s) && p.s[p.i+1] == '\'':
		_, ok := p.stringLiteral()
		return ok
	case isIdentByte(c):
		p.ident()
	default:
		p.i++
	}
	return true
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// peekPunct reports whether the character c stands at the position,
// without consuming it.
func (p *sqlScanner) peekPunct(c byte) bool {
	p.space()
	return p.i < len(p.s) && p.s[p.i] == c
}

// atEnd reports whether only white space is left.
func (p *sqlScanner) atEnd() bool {
	p.space()
	return p.i >= len(p.s)
}

// rawUntil moves over tokens, keeping parentheses balanced, up to what
// ends an expression or clause: a comma, closing parenthesis or semicolon
// outside parentheses, one of words outside parentheses, or the end. It
// returns the text moved over, trimmed, exactly as written; ok is false
// for an unterminated quote or an unbalanced parenthesis at the end.
func (p *sqlScanner) rawUntil(words ...string) (text string, ok bool) {
	return p.raw(true, words)
}

// raw is rawUntil; commas end the text only when atComma.
func (p *sqlScanner) raw(atComma bool, words []string) (text string, ok bool) {
	p.space()
	start := p.i
	end := p.i
	for depth := 0; ; {
		p.space()
		if p.i >= len(p.s) {
			return strings.TrimSpace(p.s[start:end]), depth == 0
		}
		c := p.s[p.i]
		if depth == 0 {
			if (c == ',' && atComma) || c == ')' || c == ';' {
				break
			}
			// A word after a dot is part of a qualified name, such as
			// a type called public.storage, not a keyword.
			for _, w := range wordsUnlessQualified(words, p.s, p.i) {
				if p.peekKeyword(w) {
					return strings.TrimSpace(p.s[start:end]), true
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
			return "", false
		}
		end = p.i
	}
	return strings.TrimSpace(p.s[start:end]), true
}

// parenthesized reads a balanced ( ... ) and returns what is inside,
// trimmed, exactly as written.
func (p *sqlScanner) parenthesized() (string, bool) {
	if !p.punct('(') {
		return "", false
	}
	inner, ok := p.raw(false, nil)
	if !ok || !p.punct(')') {
		return "", false
	}
	return inner, true
}

// rawQualifiedName reads a possibly qualified name and returns it as
// written, e.g. `public."x$y"`.
func (p *sqlScanner) rawQualifiedName() (string, bool) {
	p.space()
	start := p.i
	if _, ok := p.qualifiedName(); !ok {
		return "", false
	}
	return strings.TrimSpace(p.s[start:p.i]), true
}

// identList reads a parenthesized list of identifiers, e.g. (a, "b c").
func (p *sqlScanner) identList() ([]string, bool) {
	if !p.punct('(') {
		return nil, false
	}
	var names []string
	for {
		name, ok := p.ident()
		if !ok {
			return nil, false
		}
		names = append(names, name)
		if p.punct(')') {
			return names, true
		}
		if !p.punct(',') {
			return nil, false
		}
	}
}

// integer reads a decimal 64-bit integer, possibly negative.
func (p *sqlScanner) integer() (int64, bool) {
	p.space()
	start := p.i
	if p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '+') {
		p.i++
	}
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i < len(p.s) && isIdentByte(p.s[p.i]) {
		p.i = start
		return 0, false
	}
	v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	if err != nil {
		p.i = start
		return 0, false
	}
	return v, true
}

// statementEnd reports whether the statement ends at the position: a
// semicolon or the end. What follows the semicolon is another statement.
func (p *sqlScanner) statementEnd() bool {
	return p.punct(';') || p.atEnd()
}

// wordsUnlessQualified returns words, or none when the token at i follows
// a dot.
func wordsUnlessQualified(words []string, s string, i int) []string {
	if i > 0 && s[i-1] == '.' {
		return nil
	}
	return words
}
