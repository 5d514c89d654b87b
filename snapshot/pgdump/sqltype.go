package pgdump

import "strings"

// TypeDef is a TYPE or DOMAIN entry, read only as far as telling what
// kind of type it is. Names are unquoted.
type TypeDef struct {
	Schema, Name string // Schema "" when not qualified
	// Kind is pg_type.typtype: 'e' enum, 'd' domain, 'c' composite, 'r'
	// range, 'b' base (CREATE TYPE name (INPUT = ...)).
	Kind byte
	// BaseType is a domain's type as written (format_type), e.g.
	// "character varying(12)".
	BaseType string
	// MultirangeSchema and Multirange name a range type's multirange
	// type (PostgreSQL 14 and later): multirange_type_name, or the name
	// PostgreSQL derives.
	MultirangeSchema, Multirange string
}

// TypeDefinition reads a TYPE or DOMAIN entry:
//
//	CREATE TYPE public.mood AS ENUM (...);
//	CREATE TYPE public.pair AS (...);
//	CREATE TYPE public.floatrange AS RANGE (subtype = ..., multirange_type_name = ...);
//	CREATE TYPE public.x (INPUT = ..., ...);
//	CREATE DOMAIN public."short$code" AS character varying(12) ...;
func (e *Entry) TypeDefinition() (*TypeDef, error) {
	if e.Desc != "TYPE" && e.Desc != "DOMAIN" {
		return nil, e.sqlError("is not a TYPE or DOMAIN entry", e.Defn, 0)
	}
	p := sqlScanner{s: e.Defn}
	if !p.keyword("CREATE") {
		return nil, e.sqlError("type definition does not start with CREATE", e.Defn, p.i)
	}
	isDomain := p.keyword("DOMAIN")
	if !isDomain && !p.keyword("TYPE") {
		return nil, e.sqlError("type definition is neither CREATE TYPE nor CREATE DOMAIN", e.Defn, p.i)
	}
	name, ok := p.qualifiedName()
	if !ok || len(name) > 2 {
		return nil, e.sqlError("type definition has no valid type name", e.Defn, p.i)
	}
	t := &TypeDef{Name: name[len(name)-1]}
	if len(name) == 2 {
		t.Schema = name[0]
	}
	if isDomain {
		t.Kind = 'd'
		p.keyword("AS")
		if t.BaseType, ok = p.rawUntil("COLLATE", "DEFAULT", "NOT", "NULL", "CONSTRAINT", "CHECK"); !ok || t.BaseType == "" {
			return nil, e.sqlError("CREATE DOMAIN has no valid type", e.Defn, p.i)
		}
		t.BaseType = strings.Join(strings.Fields(t.BaseType), " ")
		return t, nil
	}
	switch {
	case p.peekPunct('('):
		t.Kind = 'b'
	case !p.keyword("AS"):
		return nil, e.sqlError("CREATE TYPE lacks AS", e.Defn, p.i)
	case p.keyword("ENUM"):
		t.Kind = 'e'
	case p.keyword("RANGE"):
		t.Kind = 'r'
		if why := p.rangeOptions(t); why != "" {
			return nil, e.sqlError(why, e.Defn, p.i)
		}
	case p.peekPunct('('):
		t.Kind = 'c'
	default:
		return nil, e.sqlError("CREATE TYPE AS is not followed by ENUM, RANGE or a column list", e.Defn, p.i)
	}
	return t, nil
}

// rangeOptions reads a range type's options for its multirange type's
// name, else derives it as PostgreSQL's makeMultirangeTypeName does.
func (p *sqlScanner) rangeOptions(t *TypeDef) (why string) {
	if !p.punct('(') {
		return "AS RANGE lacks its ("
	}
	for {
		option, ok := p.ident()
		if !ok || !p.punct('=') {
			return "AS RANGE has an invalid option"
		}
		if strings.EqualFold(option, "multirange_type_name") {
			name, ok := p.qualifiedName()
			if !ok || len(name) > 2 {
				return "multirange_type_name has no valid name"
			}
			t.Multirange = name[len(name)-1]
			if len(name) == 2 {
				t.MultirangeSchema = name[0]
			}
		} else if _, ok := p.rawUntil(); !ok {
			return "AS RANGE has an unterminated option"
		}
		if p.punct(')') {
			break
		}
		if !p.punct(',') {
			return "AS RANGE options are not closed"
		}
	}
	if t.Multirange == "" {
		t.MultirangeSchema = t.Schema
		if i := strings.LastIndex(t.Name, "range"); i >= 0 {
			t.Multirange = t.Name[:i] + "multirange" + t.Name[i+len("range"):]
		} else {
			t.Multirange = t.Name + "_multirange"
		}
	}
	return ""
}

// TypeName is a type as pg_dump writes it, with format_type and an empty
// search_path: "character varying(200)", "timestamp(3) without time
// zone", "numeric(28,8)[]", `public."short$code"`, "interval day to
// second(3)".
type TypeName struct {
	// Schema is the schema that qualifies the name, unquoted; "" for a
	// type of pg_catalog, which format_type never qualifies.
	Schema string
	// Name is the type's name without modifiers or array brackets, as
	// written: SQL's own spelling for built-in types ("character
	// varying", "timestamp without time zone", "interval"), quoted where
	// needed for others (`"short$code"`, `"char"`).
	Name string
	// Modifiers are the type modifiers in parentheses, as written:
	// ["200"], ["28", "8"], ["3"]; nil when none.
	Modifiers []string
	// Fields is interval's field restriction, e.g. "day to second", ""
	// when none.
	Fields string
	// ArrayDims is the number of [] after the type.
	ArrayDims int

	schemaSQL string // Schema as written
}

// Unmodified returns the type as written without its modifiers and
// interval fields, e.g. "character varying[]" for
// "character varying(10)[]": what format_type prints for the type alone.
func (t TypeName) Unmodified() string {
	s := t.Name + strings.Repeat("[]", t.ArrayDims)
	if t.schemaSQL != "" {
		s = t.schemaSQL + "." + s
	}
	return s
}

// ParseTypeName reads a column type as pg_dump writes it.
func ParseTypeName(text string) (TypeName, bool) {
	var t TypeName
	p := sqlScanner{s: text}
	p.space()
	var words []string
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] == '[' {
			break
		}
		if p.s[p.i] == '(' {
			if t.Modifiers != nil {
				return TypeName{}, false
			}
			mods, ok := p.parenthesized()
			if !ok || mods == "" {
				return TypeName{}, false
			}
			for _, m := range splitTopLevel(mods) {
				t.Modifiers = append(t.Modifiers, strings.TrimSpace(m))
			}
			continue
		}
		start := p.i
		if _, ok := p.ident(); !ok {
			return TypeName{}, false
		}
		word := p.s[start:p.i]
		if p.peekPunct('.') { // a schema
			if len(words) > 0 || t.Schema != "" || t.Modifiers != nil {
				return TypeName{}, false
			}
			t.Schema, t.schemaSQL = UnqualifiedName(word), word
			p.punct('.')
			continue
		}
		words = append(words, word)
	}
	for p.punct('[') {
		if !p.punct(']') {
			return TypeName{}, false
		}
		t.ArrayDims++
	}
	if len(words) == 0 || !p.atEnd() {
		return TypeName{}, false
	}
	if strings.EqualFold(words[0], "interval") && len(words) > 1 {
		t.Fields = strings.Join(words[1:], " ")
		words = words[:1]
	}
	t.Name = strings.Join(words, " ")
	return t, true
}

// splitTopLevel splits s at the commas outside quotes and parentheses.
func splitTopLevel(s string) []string {
	var parts []string
	p := sqlScanner{s: s}
	start := 0
	for depth := 0; ; {
		p.space()
		if p.i >= len(p.s) {
			return append(parts, s[start:])
		}
		switch c := p.s[p.i]; {
		case c == ',' && depth == 0:
			parts = append(parts, s[start:p.i])
			p.i++
			start = p.i
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
		}
		if !p.token() {
			return append(parts, s[start:])
		}
	}
}

// UnqualifyNames rewrites an expression or type that pg_dump printed with
// an empty search_path the way PostgreSQL prints it when schema is on the
// search path: `nextval('public."x$seq"'::regclass)` becomes
// `nextval('"x$seq"'::regclass)` and `'a'::public.mood` becomes
// `'a'::mood`. Names qualified by another schema are left as they are.
func UnqualifyNames(sql, schema string) string {
	quoted := quoteIdentIfNeeded(schema)
	var b strings.Builder
	p := sqlScanner{s: sql}
	last := 0
	for p.i < len(p.s) {
		start := p.i
		c := p.s[p.i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			p.i++
			continue
		}
		if !p.token() {
			break // an unterminated quote: the rest stays as it is
		}
		tok := p.s[start:p.i]
		switch {
		case tok == quoted && p.i < len(p.s) && p.s[p.i] == '.' && p.i+1 < len(p.s) &&
			(p.s[p.i+1] == '"' || isIdentByte(p.s[p.i+1])) && !isQualifiedPart(p.s, start):
			b.WriteString(p.s[last:start])
			p.i++ // the dot
			last = p.i
		case c == '\'' && strings.HasPrefix(tok, "'"+quoted+".") && strings.HasPrefix(p.s[p.i:], "::regclass"):
			b.WriteString(p.s[last:start])
			b.WriteString("'")
			last = start + 1 + len(quoted) + 1
		}
	}
	b.WriteString(p.s[last:])
	return b.String()
}

// isQualifiedPart reports whether the token at i follows a dot, i.e. is
// not the first part of a qualified name.
func isQualifiedPart(s string, i int) bool {
	return i > 0 && s[i-1] == '.'
}

// quoteIdentIfNeeded quotes name as PostgreSQL's quote_identifier does
// for names that are not plain lower-case words. (Reserved words are
// quoted too by PostgreSQL; no schema of a dump is named like one.)
func quoteIdentIfNeeded(name string) string {
	plain := name != "" && (name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z'))
	for i := 0; plain && i < len(name); i++ {
		c := name[i]
		plain = c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
