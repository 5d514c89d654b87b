package typemap

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
)

// Column is a column mapped to SQL Server, with its value converter.
type Column struct {
	Name      string
	Source    pgcatalog.Type
	Target    Target
	Nullable  bool
	OnInvalid Action
	// Cast is the PostgreSQL type the column is read as ("text" when a
	// character target takes PostgreSQL's text form), "" for none.
	Cast     string
	convert  convertFunc
	fromText textFunc
	// source is the source type's kind; real marks PostgreSQL's real,
	// which pgx reads as float32.
	source sourceKind
	real   bool
}

// SelectExpr is the column's expression in the query that reads it from
// PostgreSQL: the quoted name, cast when Cast says so.
func (c *Column) SelectExpr() string {
	expr := pgx.Identifier{c.Name}.Sanitize()
	if c.Cast != "" {
		expr += "::" + c.Cast
	}
	return expr
}

// Convert turns a value as pgx decodes it into the value go-mssqldb's bulk
// copy takes for the target type, applying OnInvalid when it does not
// fit. A value that does not fit comes back as a *Misfit error.
func (c *Column) Convert(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return c.settle(c.convert(v, c.OnInvalid == Clamp))
}

// settle applies OnInvalid "null" to a conversion's result.
func (c *Column) settle(out any, err error) (any, error) {
	if err != nil {
		var m *Misfit
		if c.OnInvalid == Null && errors.As(err, &m) {
			return nil, nil
		}
		return nil, err
	}
	return out, nil
}

// Table is a table whose columns are mapped.
type Table struct {
	Name    string
	Columns []Column
	// key holds the indexes of the primary key's columns, for errors.
	key []int
}

// Column maps one column of table.
func (m *Mapper) Column(table string, col pgcatalog.Column) (Column, error) {
	rule := m.ruleFor(table, col)
	target, err := builtinTarget(col.Type)
	if rule.To != nil {
		target, err = *rule.To, nil
	}
	if err != nil {
		return Column{}, err
	}
	action := rule.OnInvalid
	if action == "" {
		action = Fail
	}
	if action == Null && col.NotNull {
		return Column{}, fmt.Errorf(`onInvalid "null" on a NOT NULL column: use "clamp" or "error"`)
	}
	src := kindOf(col.Type)
	conv, cast, err := converterFor(src, target)
	if err != nil {
		return Column{}, err
	}
	real := col.Type.Base == "real"
	return Column{
		Name: col.Name, Source: col.Type, Target: target, Nullable: !col.NotNull,
		OnInvalid: action, Cast: cast, convert: conv,
		fromText: textConverterFor(src, col.Type.Text, real, target, conv),
		source:   src, real: real,
	}, nil
}

// Table maps every column of t. The error names every column that cannot
// be mapped, so that one run shows all the rules a user must add.
func (m *Mapper) Table(t *pgcatalog.Table) (*Table, error) {
	out := &Table{Name: t.Name}
	var errs []error
	for _, col := range t.Columns {
		c, err := m.Column(t.Name, col)
		if err != nil {
			errs = append(errs, fmt.Errorf("table %q column %q (%s): %w", t.Name, col.Name, col.Type.Text, err))
			continue
		}
		out.Columns = append(out.Columns, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if t.PrimaryKey != nil {
		for _, name := range t.PrimaryKey.Columns {
			for i := range out.Columns {
				if out.Columns[i].Name == name {
					out.key = append(out.key, i)
				}
			}
		}
	}
	return out, nil
}

// ruleFor merges the user's rules for a column, most specific last.
func (m *Mapper) ruleFor(table string, col pgcatalog.Column) Rule {
	var r Rule
	keys := []string{col.Type.Base, normaliseTypeKey(col.Type.Text), typeKey(col.Type)}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		r = merge(r, m.types[k])
	}
	return merge(r, m.columns[table+"."+col.Name])
}

func merge(base, over Rule) Rule {
	if over.To != nil {
		base.To = over.To
	}
	if over.OnInvalid != "" {
		base.OnInvalid = over.OnInvalid
	}
	return base
}
