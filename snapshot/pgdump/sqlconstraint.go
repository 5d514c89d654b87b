package pgdump

import "strings"

// ConstraintDef is a constraint as pg_dump adds it to a table:
//
//	ALTER TABLE ONLY public."x$y"
//	    ADD CONSTRAINT "x$y_pkey" PRIMARY KEY (id);
//
// Names are unquoted.
type ConstraintDef struct {
	// Schema ("" when the name is not qualified) and Table name the
	// table the constraint belongs to.
	Schema, Table string
	Name          string
	// Kind is pg_constraint.contype: 'p' primary key, 'u' unique, 'f'
	// foreign key, 'c' check, 'x' exclusion.
	Kind byte
	// Columns are the key columns of a primary key, unique or foreign
	// key constraint, in key order.
	Columns []string
	// Include holds the non-key columns of INCLUDE (...).
	Include []string
	// NullsNotDistinct is UNIQUE NULLS NOT DISTINCT (PostgreSQL 15).
	NullsNotDistinct bool
	// RefSchema, RefTable and RefColumns are what a foreign key
	// references. RefSchema is "" when pg_dump did not qualify the name.
	RefSchema, RefTable string
	RefColumns          []string
	// Match is a foreign key's MATCH FULL or MATCH PARTIAL ("FULL",
	// "PARTIAL"), "" for the default MATCH SIMPLE.
	Match string
	// OnDelete and OnUpdate are a foreign key's actions: "NO ACTION",
	// "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT" (a column list
	// after SET NULL or SET DEFAULT is kept, e.g. "SET NULL (a)").
	OnDelete, OnUpdate string
	Deferrable         bool
	InitiallyDeferred  bool
	NotValid           bool
	// Definition is the constraint as pg_get_constraintdef prints it:
	// what follows the constraint's name, e.g. "CHECK ((a > 0))".
	Definition string
}

// ConstraintDefinition reads a CONSTRAINT, FK CONSTRAINT or CHECK
// CONSTRAINT entry: `ALTER [FOREIGN] TABLE [ONLY] table ADD CONSTRAINT name`
// followed by one of
//
//	PRIMARY KEY (a, b) [INCLUDE (c)] [WITH (...)] [DEFERRABLE [INITIALLY DEFERRED]]
//	UNIQUE [NULLS NOT DISTINCT] (a) [INCLUDE (c)] [WITH (...)] [DEFERRABLE ...]
//	FOREIGN KEY (a) REFERENCES public.u(id) [MATCH FULL] [ON UPDATE action] [ON DELETE action] [DEFERRABLE ...] [NOT VALID]
//	CHECK (condition) [NO INHERIT] [NOT VALID]
//	EXCLUDE USING method (...) ...
//
// A constraint of a domain (ALTER DOMAIN) is an error: it belongs to no
// table.
func (e *Entry) ConstraintDefinition() (*ConstraintDef, error) {
	switch e.Desc {
	case "CONSTRAINT", "FK CONSTRAINT", "CHECK CONSTRAINT":
	default:
		return nil, e.sqlError("is not a CONSTRAINT, FK CONSTRAINT or CHECK CONSTRAINT entry", e.Defn, 0)
	}
	p := sqlScanner{s: e.Defn}
	if !p.alterTable() {
		return nil, e.sqlError("constraint definition does not start with ALTER TABLE", e.Defn, p.i)
	}
	table, ok := p.qualifiedName()
	if !ok || len(table) > 2 {
		return nil, e.sqlError("constraint definition has no valid table name", e.Defn, p.i)
	}
	c := &ConstraintDef{Table: table[len(table)-1]}
	if len(table) == 2 {
		c.Schema = table[0]
	}
	if !p.keyword("ADD") || !p.keyword("CONSTRAINT") {
		return nil, e.sqlError("constraint definition lacks ADD CONSTRAINT", e.Defn, p.i)
	}
	if c.Name, ok = p.ident(); !ok {
		return nil, e.sqlError("ADD CONSTRAINT has no valid constraint name", e.Defn, p.i)
	}
	p.space()
	defStart := p.i
	var why string
	switch {
	case p.keyword("PRIMARY"):
		c.Kind = 'p'
		if !p.keyword("KEY") {
			return nil, e.sqlError("PRIMARY lacks KEY", e.Defn, p.i)
		}
		why = p.keyConstraint(c)
	case p.keyword("UNIQUE"):
		c.Kind = 'u'
		why = p.keyConstraint(c)
	case p.keyword("FOREIGN"):
		c.Kind = 'f'
		why = p.foreignKey(c)
	case p.keyword("CHECK"):
		c.Kind = 'c'
		if _, ok := p.parenthesized(); !ok {
			why = "CHECK has no valid condition"
		}
		why = firstWhy(why, p.constraintOptions(c, "INHERIT"))
	case p.keyword("EXCLUDE"):
		c.Kind = 'x'
		if _, ok := p.rawUntil(); !ok {
			why = "EXCLUDE has an unterminated quote or parenthesis"
		}
	default:
		return nil, e.sqlError("unknown kind of constraint", e.Defn, p.i)
	}
	if why != "" {
		return nil, e.sqlError(why, e.Defn, p.i)
	}
	c.Definition = strings.TrimSpace(p.s[defStart:p.i])
	if !p.statementEnd() {
		return nil, e.sqlError("constraint definition does not end after the constraint", e.Defn, p.i)
	}
	return c, nil
}

func firstWhy(whys ...string) string {
	for _, w := range whys {
		if w != "" {
			return w
		}
	}
	return ""
}

// keyConstraint reads the rest of a PRIMARY KEY or UNIQUE constraint.
func (p *sqlScanner) keyConstraint(c *ConstraintDef) (why string) {
	if p.keyword("NULLS") {
		if !p.keyword("NOT") || !p.keyword("DISTINCT") {
			return "NULLS is not followed by NOT DISTINCT"
		}
		c.NullsNotDistinct = true
	}
	cols, ok := p.identList()
	if !ok {
		return "the key's column list is not valid"
	}
	c.Columns = cols
	if p.keyword("INCLUDE") {
		if c.Include, ok = p.identList(); !ok {
			return "the INCLUDE column list is not valid"
		}
	}
	if p.keyword("WITH") {
		if _, ok := p.parenthesized(); !ok {
			return "WITH has no valid storage parameters"
		}
	}
	if p.keyword("USING") { // USING INDEX TABLESPACE x
		if !p.keyword("INDEX") || !p.keyword("TABLESPACE") {
			return "USING is not followed by INDEX TABLESPACE"
		}
		if _, ok := p.ident(); !ok {
			return "USING INDEX TABLESPACE has no valid name"
		}
	}
	return p.constraintOptions(c)
}

// foreignKey reads the rest of a FOREIGN KEY constraint.
func (p *sqlScanner) foreignKey(c *ConstraintDef) (why string) {
	if !p.keyword("KEY") {
		return "FOREIGN lacks KEY"
	}
	cols, ok := p.identList()
	if !ok {
		return "the foreign key's column list is not valid"
	}
	c.Columns = cols
	if !p.keyword("REFERENCES") {
		return "the foreign key lacks REFERENCES"
	}
	ref, ok := p.qualifiedName()
	if !ok || len(ref) > 2 {
		return "REFERENCES has no valid table name"
	}
	c.RefTable = ref[len(ref)-1]
	if len(ref) == 2 {
		c.RefSchema = ref[0]
	}
	if c.RefColumns, ok = p.identList(); !ok {
		return "REFERENCES has no valid column list"
	}
	if len(c.RefColumns) != len(c.Columns) {
		return "the foreign key references another number of columns than it has"
	}
	if p.keyword("MATCH") {
		switch {
		case p.keyword("FULL"):
			c.Match = "FULL"
		case p.keyword("PARTIAL"):
			c.Match = "PARTIAL"
		case p.keyword("SIMPLE"):
		default:
			return "MATCH is not followed by FULL, PARTIAL or SIMPLE"
		}
	}
	c.OnDelete, c.OnUpdate = "NO ACTION", "NO ACTION"
	for p.keyword("ON") {
		var action *string
		switch {
		case p.keyword("DELETE"):
			action = &c.OnDelete
		case p.keyword("UPDATE"):
			action = &c.OnUpdate
		default:
			return "ON is not followed by DELETE or UPDATE"
		}
		switch {
		case p.keyword("CASCADE"):
			*action = "CASCADE"
		case p.keyword("RESTRICT"):
			*action = "RESTRICT"
		case p.keyword("NO"):
			if !p.keyword("ACTION") {
				return "NO is not followed by ACTION"
			}
			*action = "NO ACTION"
		case p.keyword("SET"):
			switch {
			case p.keyword("NULL"):
				*action = "SET NULL"
			case p.keyword("DEFAULT"):
				*action = "SET DEFAULT"
			default:
				return "SET is not followed by NULL or DEFAULT"
			}
			if p.peekPunct('(') { // PostgreSQL 15: SET NULL (a, b)
				start := p.i
				if _, ok := p.identList(); !ok {
					return "the SET NULL or SET DEFAULT column list is not valid"
				}
				*action += " " + p.s[start:p.i]
			}
		default:
			return "unknown referential action"
		}
	}
	return p.constraintOptions(c)
}

// constraintOptions reads the options that may end a constraint:
// DEFERRABLE, INITIALLY, NOT VALID and, for extra, NO extra.
func (p *sqlScanner) constraintOptions(c *ConstraintDef, extra ...string) (why string) {
	for {
		switch {
		case p.keyword("DEFERRABLE"):
			c.Deferrable = true
		case p.keyword("INITIALLY"):
			switch {
			case p.keyword("DEFERRED"):
				c.InitiallyDeferred = true
			case p.keyword("IMMEDIATE"):
			default:
				return "INITIALLY is not followed by DEFERRED or IMMEDIATE"
			}
		case p.keyword("NOT"):
			switch {
			case p.keyword("VALID"):
				c.NotValid = true
			case p.keyword("DEFERRABLE"):
			default:
				return "NOT is not followed by VALID or DEFERRABLE"
			}
		case p.keyword("NO"):
			found := false
			for _, w := range extra {
				found = found || p.keyword(w)
			}
			if !found {
				return "NO is not followed by a known option"
			}
		default:
			return ""
		}
	}
}

// DefaultDef is a column default that pg_dump sets apart from its
// table's CREATE TABLE (a serial column's, or one that depends on
// objects created later):
//
//	ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq'::regclass);
type DefaultDef struct {
	Schema, Table, Column string // unquoted; Schema "" when not qualified
	// Expr is the default expression as pg_get_expr printed it.
	Expr string
}

// DefaultDefinition reads a DEFAULT entry.
func (e *Entry) DefaultDefinition() (*DefaultDef, error) {
	if e.Desc != "DEFAULT" {
		return nil, e.sqlError("is not a DEFAULT entry", e.Defn, 0)
	}
	p := sqlScanner{s: e.Defn}
	if !p.alterTable() {
		return nil, e.sqlError("default definition does not start with ALTER TABLE", e.Defn, p.i)
	}
	table, ok := p.qualifiedName()
	if !ok || len(table) > 2 {
		return nil, e.sqlError("default definition has no valid table name", e.Defn, p.i)
	}
	d := &DefaultDef{Table: table[len(table)-1]}
	if len(table) == 2 {
		d.Schema = table[0]
	}
	if !p.keyword("ALTER") || !p.keyword("COLUMN") {
		return nil, e.sqlError("default definition lacks ALTER COLUMN", e.Defn, p.i)
	}
	if d.Column, ok = p.ident(); !ok {
		return nil, e.sqlError("ALTER COLUMN has no valid column name", e.Defn, p.i)
	}
	if !p.keyword("SET") || !p.keyword("DEFAULT") {
		return nil, e.sqlError("default definition lacks SET DEFAULT", e.Defn, p.i)
	}
	if d.Expr, ok = p.rawUntil(); !ok || d.Expr == "" {
		return nil, e.sqlError("SET DEFAULT has no valid expression", e.Defn, p.i)
	}
	if !p.statementEnd() {
		return nil, e.sqlError("default definition does not end after the expression", e.Defn, p.i)
	}
	return d, nil
}
