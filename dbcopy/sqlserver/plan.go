package sqlserver

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/typemap"
)

// loadPlan is everything a load will create, worked out from the dump's
// schema and the type rules before anything is written.
type loadPlan struct {
	Schema string
	Tables []*plannedTable
	// Keys are created after the data, in this order: primary keys,
	// unique constraints, indexes, foreign keys. A load builds a table's
	// keys and indexes as soon as its data is in, in this order (the
	// clustered primary key first: built later, it would rebuild the
	// others), and a foreign key once both its tables have theirs.
	Keys      []step
	Sequences []step
	// Warnings are objects or properties not carried over.
	Warnings []string
	// ActionChanges are the foreign key actions SQL Server refuses
	// (multiple cascade paths, cycles) and that become NO ACTION.
	ActionChanges []string
	// Problems refuse the load: the user must add type rules first.
	Problems []string
}

type plannedTable struct {
	Source *pgcatalog.Table
	Map    *typemap.Table
	Create string
}

// step is one DDL statement that creates a named object.
type step struct {
	Kind  string // "primary key", "unique", "index", "foreign key", "sequence"
	Table string // "" for a sequence
	Name  string
	// RefTable is the table a foreign key references.
	RefTable string
	SQL      string
	// Unique and Filter say what form a key or index takes: unique or
	// not, and the filter ("[a] IS NOT NULL AND ...") of a filtered
	// unique index, "" for none. Verification checks them.
	Unique bool
	Filter string
	// NullsNotDistinct marks an index made for a NULLS NOT DISTINCT one.
	NullsNotDistinct bool
}

// SQL Server's limits on the size of an index key.
const (
	maxClusteredKeyBytes    = 900
	maxNonclusteredKeyBytes = 1700
)

// newPlan maps src into schema with the rules of m. It never fails: what
// cannot be converted is listed in Problems or Warnings.
func newPlan(schema string, src *pgcatalog.Schema, m *typemap.Mapper) *loadPlan {
	p := &loadPlan{Schema: schema}
	for _, key := range m.UnknownColumns(src) {
		p.Problems = append(p.Problems, fmt.Sprintf("type rule for column %q: no such column in the backup", key))
	}
	var pks, uniques, indexes, fks []step
	actions := fkActions(src.Tables, func(_ string, fk pgcatalog.ForeignKey) bool { return fk.RefSchema != src.Name })
	for _, t := range src.Tables {
		mapped, err := m.Table(t)
		if err != nil {
			p.Problems = append(p.Problems, strings.Split(err.Error(), "\n")...)
			continue
		}
		create, warnings := createTableSQL(schema, t, mapped)
		p.Warnings = append(p.Warnings, warnings...)
		p.Tables = append(p.Tables, &plannedTable{Source: t, Map: mapped, Create: create})

		targets := map[string]typemap.Column{}
		nullable := map[string]bool{}
		for _, c := range mapped.Columns {
			targets[c.Name] = c
			nullable[c.Name] = c.Nullable
		}
		if pk := t.PrimaryKey; pk != nil {
			if problem := p.checkKey(t.Name, "primary key", pk.Name, pk.Columns, targets, maxClusteredKeyBytes); problem {
				continue
			}
			pks = append(pks, step{Kind: "primary key", Table: t.Name, Name: pk.Name, Unique: true, SQL: addPrimaryKeySQL(schema, t.Name, *pk)})
		}
		for _, u := range t.Uniques {
			if p.checkKey(t.Name, "unique constraint", u.Name, u.Columns, targets, maxNonclusteredKeyBytes) {
				continue
			}
			if filter := notNullFilter(u.Columns, nullable); filter != "" && !uniqueNullsEqual(u) {
				// PostgreSQL lets any number of rows with a NULL in the key
				// in; SQL Server's constraint one: a filtered unique index
				// under the constraint's name keeps PostgreSQL's rule.
				uniques = append(uniques, step{Kind: "unique index", Table: t.Name, Name: u.Name, Unique: true, Filter: filter, SQL: createFilteredUniqueSQL(schema, t.Name, u, filter)})
				continue
			}
			uniques = append(uniques, step{Kind: "unique", Table: t.Name, Name: u.Name, Unique: true, SQL: addUniqueSQL(schema, t.Name, u)})
		}
		for _, idx := range t.Indexes {
			if idx.NotConvertible != "" {
				p.Warnings = append(p.Warnings, fmt.Sprintf("table %q index %q not created: %s (%s)", t.Name, idx.Name, idx.NotConvertible, idx.Definition))
				continue
			}
			cols := make([]string, len(idx.Columns))
			for i, c := range idx.Columns {
				cols[i] = c.Name
			}
			kind := "index"
			if idx.Unique {
				kind = "unique index"
			}
			if p.checkKey(t.Name, kind, idx.Name, cols, targets, maxNonclusteredKeyBytes) {
				continue
			}
			indexes = append(indexes, step{Kind: "index", Table: t.Name, Name: idx.Name, Unique: idx.Unique, Filter: indexFilter(idx, nullable), NullsNotDistinct: idx.Unique && idx.NullsNotDistinct, SQL: createIndexSQL(schema, t.Name, idx, nullable)})
		}
		for _, fk := range t.ForeignKeys {
			if fk.RefSchema != src.Name {
				p.Warnings = append(p.Warnings, fmt.Sprintf("table %q foreign key %q not created: it references schema %q, which is not migrated", t.Name, fk.Name, fk.RefSchema))
				continue
			}
			d := actions[fkRef{t.Name, fk.Name}]
			fk.OnDelete, fk.OnUpdate = d.OnDelete, d.OnUpdate
			p.ActionChanges = append(p.ActionChanges, d.Changes...)
			fks = append(fks, step{Kind: "foreign key", Table: t.Name, Name: fk.Name, RefTable: fk.RefTable, SQL: addForeignKeySQL(schema, t.Name, fk)})
		}
	}
	p.Keys = append(append(append(pks, uniques...), indexes...), fks...)
	for _, seq := range src.Sequences {
		start, ok := seq.NextValue()
		if !ok {
			// An exhausted sequence stays exhausted after its last value.
			start = seq.Max
			if seq.Increment < 0 {
				start = seq.Min
			}
			p.Warnings = append(p.Warnings, fmt.Sprintf("sequence %q is exhausted in the backup: it starts at its limit %d", seq.Name, start))
		}
		p.Sequences = append(p.Sequences, step{Kind: "sequence", Name: seq.Name, SQL: createSequenceSQL(schema, seq, start)})
	}
	sort.Strings(p.Warnings)
	sort.Strings(p.ActionChanges)
	return p
}

// checkKey reports (as a problem for keys and unique indexes, a warning
// for plain indexes) a key that SQL Server cannot build: a (max) column
// cannot be a key column, and a key may be too long for some rows. It
// returns true when the object must be left out.
func (p *loadPlan) checkKey(table, kind, name string, cols []string, targets map[string]typemap.Column, limit int) bool {
	bytes := 0
	for _, col := range cols {
		c, ok := targets[col]
		if !ok {
			continue
		}
		if c.Target.IsMax() {
			msg := fmt.Sprintf("table %q %s %q: column %q is %s, which SQL Server cannot index; add a rule such as %q: {\"to\": \"nvarchar(450)\"}",
				table, kind, name, col, c.Target, table+"."+col)
			if kind == "index" {
				p.Warnings = append(p.Warnings, msg+" (index not created)")
			} else {
				p.Problems = append(p.Problems, msg)
			}
			return true
		}
		bytes += keyBytes(c.Target)
	}
	if bytes > limit {
		p.Warnings = append(p.Warnings, fmt.Sprintf("table %q %s %q: key may be %d bytes, over SQL Server's %d; rows with longer values will fail", table, kind, name, bytes, limit))
	}
	return false
}

// keyBytes is a column's largest size in an index key.
func keyBytes(t typemap.Target) int {
	switch t.Name {
	case "nvarchar", "nchar":
		return 2 * t.Length
	case "varchar", "char", "varbinary", "binary":
		return t.Length
	}
	return fixedBytes[t.Name]
}

var fixedBytes = map[string]int{
	"bigint": 8, "int": 4, "smallint": 2, "tinyint": 1, "bit": 1, "float": 8, "real": 4,
	"decimal": 17, "numeric": 17, "uniqueidentifier": 16,
	"datetime2": 8, "datetimeoffset": 10, "date": 3, "time": 5,
}

// Script is the plan's DDL as one T-SQL script, for review and the golden
// test.
func (p *loadPlan) Script() string {
	var b strings.Builder
	b.WriteString("-- tables\n")
	for _, t := range p.Tables {
		b.WriteString(t.Create + ";\n\n")
	}
	b.WriteString("-- data is copied here\n\n-- keys and indexes\n")
	for _, s := range p.Keys {
		b.WriteString(s.SQL + ";\n")
	}
	b.WriteString("\n-- sequences\n")
	for _, s := range p.Sequences {
		b.WriteString(s.SQL + ";\n")
	}
	for _, w := range p.ActionChanges {
		b.WriteString("\n-- changed: " + w)
	}
	for _, w := range p.Warnings {
		b.WriteString("\n-- warning: " + w)
	}
	for _, w := range p.Problems {
		b.WriteString("\n-- problem: " + w)
	}
	b.WriteString("\n")
	return b.String()
}
