// Package pgcatalog reads a PostgreSQL schema's tables, keys, indexes and
// sequences from the system catalog (Read), or from the TOC of a pg_dump
// archive (FromArchive, which gives the same Schema without a server), in
// the shape a target of another kind (SQL Server) needs to recreate them:
// column types parsed into base type and modifiers, constraint columns in
// key order, and the indexes that cannot be carried over marked with the
// reason.
//
// Every name is returned exactly as PostgreSQL stores it (Mendix names
// contain '$' and columns are called "order" or "user"): quote them before
// use.
package pgcatalog

// Schema is one PostgreSQL schema's tables and sequences.
type Schema struct {
	Name      string
	Tables    []*Table    // sorted by name
	Sequences []*Sequence // sorted by name
}

// Table returns the table called name, or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Table is an ordinary table.
type Table struct {
	Name    string
	Columns []Column // in ordinal order
	// PrimaryKey is nil when the table has none.
	PrimaryKey  *Constraint
	Uniques     []Constraint // unique constraints, by name
	Indexes     []Index      // indexes that back no constraint, by name
	ForeignKeys []ForeignKey // by name
}

// Column returns the column called name, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// Column is a table column.
type Column struct {
	Name    string
	Type    Type
	NotNull bool
	// Default is the default expression as pg_get_expr prints it, "" when
	// there is none.
	Default string
	// Identity is "a" (ALWAYS) or "d" (BY DEFAULT) for identity columns,
	// "" otherwise; Generated is "s" for stored generated columns.
	Identity  string
	Generated string
}

// Type is a column type: the text format_type() prints and its parts.
type Type struct {
	// Text is format_type(type, typmod), e.g. "character varying(200)",
	// "numeric(28,8)", "timestamp(3) without time zone".
	Text string
	// Base is the type without modifiers, e.g. "character varying",
	// "numeric", "timestamp without time zone"; for a domain, its base
	// type's. Arrays end in "[]".
	Base string
	// Length is the declared length of character and bit types, -1 when
	// none is declared.
	Length int
	// Precision is numeric's precision or the fractional second digits of
	// time and timestamp types, -1 when none is declared.
	Precision int
	// Scale is numeric's scale, -1 when the numeric is unconstrained.
	Scale int
	// Kind is pg_type.typtype of the column's type: 'b' base, 'd' domain,
	// 'e' enum, 'c' composite, 'r' range, 'm' multirange.
	Kind byte
}

// Constraint is a primary key or unique constraint.
type Constraint struct {
	Name    string
	Columns []string // in key order
	// NullsNotDistinct is a unique constraint declared NULLS NOT DISTINCT
	// (PostgreSQL 15): rows whose keys differ only by NULLs collide.
	NullsNotDistinct bool
}

// IndexColumn is one key column of an index.
type IndexColumn struct {
	Name       string
	Descending bool
	NullsFirst bool
}

// Index is an index that backs no constraint.
type Index struct {
	Name   string
	Unique bool
	// Method is the access method, e.g. "btree", "gin".
	Method  string
	Columns []IndexColumn
	// Include holds the non-key columns of INCLUDE (...).
	Include []string
	// NullsNotDistinct is a unique index declared NULLS NOT DISTINCT
	// (PostgreSQL 15): rows whose keys differ only by NULLs collide.
	NullsNotDistinct bool
	// Definition is pg_get_indexdef(), for reports.
	Definition string
	// NotConvertible says why the index cannot be recreated elsewhere as
	// a plain column index ("partial index", "expression index", "gin
	// index"); "" when it can.
	NotConvertible string
}

// ForeignKey is a foreign key constraint.
type ForeignKey struct {
	Name       string
	Columns    []string
	RefSchema  string
	RefTable   string
	RefColumns []string
	// OnDelete and OnUpdate are the SQL actions: "NO ACTION", "RESTRICT",
	// "CASCADE", "SET NULL", "SET DEFAULT".
	OnDelete string
	OnUpdate string
}

// Sequence is a sequence with its current state.
type Sequence struct {
	Name string
	// DataType is "smallint", "integer" or "bigint".
	DataType  string
	Start     int64
	Increment int64
	Min       int64
	Max       int64
	Cycle     bool
	LastValue int64
	IsCalled  bool
}

// NextValue is the value nextval() returns next. It reports false when the
// sequence is exhausted (nextval() would fail) and does not cycle.
func (s *Sequence) NextValue() (int64, bool) {
	if !s.IsCalled {
		return s.LastValue, true
	}
	next := s.LastValue + s.Increment
	overflowed := (s.Increment > 0 && next < s.LastValue) || (s.Increment < 0 && next > s.LastValue)
	if overflowed || next > s.Max || next < s.Min {
		if !s.Cycle {
			return 0, false
		}
		if s.Increment > 0 {
			return s.Min, true
		}
		return s.Max, true
	}
	return next, true
}
