package sqlserver

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/typemap"
)

// The functions here only build SQL text: they are pure, and the golden
// test of a Mendix-shaped schema pins their output.

// createTableSQL creates a table without keys: keys and indexes come after
// the data, which loads faster into a heap.
func createTableSQL(schema string, src *pgcatalog.Table, t *typemap.Table) (sql string, warnings []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", qualified(schema, t.Name))
	for i, c := range t.Columns {
		null := "NULL"
		if !c.Nullable {
			null = "NOT NULL"
		}
		fmt.Fprintf(&b, "    %s %s %s", quoteIdent(c.Name), c.Target, null)
		pg := src.Column(c.Name)
		if pg != nil && pg.Default != "" {
			if def, ok := translateDefault(pg.Default, c.Target); ok {
				b.WriteString(" DEFAULT " + def)
			} else {
				warnings = append(warnings, fmt.Sprintf("table %q column %q: default %s not carried over (no SQL Server equivalent)", t.Name, c.Name, pg.Default))
			}
		}
		if pg != nil && pg.Identity != "" {
			warnings = append(warnings, fmt.Sprintf("table %q column %q: identity becomes a plain column (values are copied)", t.Name, c.Name))
		}
		if pg != nil && pg.Generated != "" {
			warnings = append(warnings, fmt.Sprintf("table %q column %q: generated column becomes a plain column, left NULL (pg_dump writes no values for it)", t.Name, c.Name))
		}
		if i < len(t.Columns)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(")")
	return b.String(), warnings
}

var (
	numberLiteral = regexp.MustCompile(`^\(?(-?[0-9]+(\.[0-9]+)?)\)?(::[a-z ]+(\([0-9, ]+\))?)?$`)
	stringLiteral = regexp.MustCompile(`^'((?:[^']|'')*)'(::[a-z ]+(\([0-9, ]+\))?)?$`)
	nullLiteral   = regexp.MustCompile(`^NULL(::[a-z ]+(\([0-9, ]+\))?)?$`)
)

// translateDefault carries over literal defaults (numbers, strings,
// booleans, NULL). Expressions (now(), nextval(...)) are not carried over:
// a Mendix runtime sets every value itself.
func translateDefault(expr string, target typemap.Target) (string, bool) {
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "true" && target.Name == "bit":
		return "(1)", true
	case expr == "false" && target.Name == "bit":
		return "(0)", true
	case nullLiteral.MatchString(expr):
		return "(NULL)", true
	}
	if m := numberLiteral.FindStringSubmatch(expr); m != nil {
		return "(" + m[1] + ")", true
	}
	if m := stringLiteral.FindStringSubmatch(expr); m != nil {
		text := strings.ReplaceAll(m[1], "''", "'")
		if target.IsText() {
			return "(" + quoteString(text) + ")", true
		}
		// PostgreSQL prints a negative number default as '-1'::integer.
		if n := numberLiteral.FindStringSubmatch(text); n != nil && n[3] == "" {
			return "(" + n[1] + ")", true
		}
	}
	return "", false
}

func addPrimaryKeySQL(schema, table string, pk pgcatalog.Constraint) string {
	return fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s PRIMARY KEY CLUSTERED (%s)",
		qualified(schema, table), quoteIdent(pk.Name), quoteList(pk.Columns))
}

func addUniqueSQL(schema, table string, u pgcatalog.Constraint) string {
	return fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE NONCLUSTERED (%s)",
		qualified(schema, table), quoteIdent(u.Name), quoteList(u.Columns))
}

// createFilteredUniqueSQL creates a unique constraint over nullable
// columns as a unique index, under the constraint's name, on the rows
// without a NULL in the key.
func createFilteredUniqueSQL(schema, table string, u pgcatalog.Constraint, filter string) string {
	return fmt.Sprintf("CREATE UNIQUE NONCLUSTERED INDEX %s ON %s (%s) WHERE %s",
		quoteIdent(u.Name), qualified(schema, table), quoteList(u.Columns), filter)
}

// notNullFilter is the filter "a IS NOT NULL AND b IS NOT NULL" over the
// nullable ones of cols, "" when none is.
func notNullFilter(cols []string, nullable map[string]bool) string {
	var filter []string
	for _, c := range cols {
		if nullable[c] {
			filter = append(filter, quoteIdent(c)+" IS NOT NULL")
		}
	}
	return strings.Join(filter, " AND ")
}

// createIndexSQL creates a plain or unique index. A unique index over
// nullable columns is filtered to rows without NULLs in its key: that
// keeps PostgreSQL's rule that NULLs never collide, where SQL Server's
// unique index would allow one NULL only.
func createIndexSQL(schema, table string, idx pgcatalog.Index, nullable map[string]bool) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if idx.Unique {
		b.WriteString("UNIQUE ")
	}
	fmt.Fprintf(&b, "NONCLUSTERED INDEX %s ON %s (", quoteIdent(idx.Name), qualified(schema, table))
	for i, c := range idx.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		dir := "ASC"
		if c.Descending {
			dir = "DESC"
		}
		b.WriteString(quoteIdent(c.Name) + " " + dir)
	}
	b.WriteString(")")
	if len(idx.Include) > 0 {
		b.WriteString(" INCLUDE (" + quoteList(idx.Include) + ")")
	}
	if filter := indexFilter(idx, nullable); filter != "" {
		b.WriteString(" WHERE " + filter)
	}
	return b.String()
}

// indexFilter is the filter of a unique index over nullable columns that
// is not NULLS NOT DISTINCT, "" for any other index.
func indexFilter(idx pgcatalog.Index, nullable map[string]bool) string {
	if !idx.Unique || indexNullsEqual(idx) {
		return ""
	}
	keyCols := make([]string, len(idx.Columns))
	for i, c := range idx.Columns {
		keyCols[i] = c.Name
	}
	return notNullFilter(keyCols, nullable)
}

func addForeignKeySQL(schema, table string, fk pgcatalog.ForeignKey) string {
	s := fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (%s)",
		qualified(schema, table), quoteIdent(fk.Name), quoteList(fk.Columns),
		qualified(schema, fk.RefTable), quoteList(fk.RefColumns))
	// SQL Server has no RESTRICT; NO ACTION is its default and equivalent
	// for a constraint that is not deferred.
	if a := fk.OnDelete; a != "NO ACTION" && a != "RESTRICT" {
		s += " ON DELETE " + a
	}
	if a := fk.OnUpdate; a != "NO ACTION" && a != "RESTRICT" {
		s += " ON UPDATE " + a
	}
	return s
}

// createSequenceSQL creates the sequence so that NEXT VALUE FOR returns
// what nextval() would have returned next.
func createSequenceSQL(schema string, seq *pgcatalog.Sequence, start int64) string {
	cycle := "NO CYCLE"
	if seq.Cycle {
		cycle = "CYCLE"
	}
	return fmt.Sprintf("CREATE SEQUENCE %s AS bigint START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s %s",
		qualified(schema, seq.Name), strconv.FormatInt(start, 10), strconv.FormatInt(seq.Increment, 10),
		strconv.FormatInt(seq.Min, 10), strconv.FormatInt(seq.Max, 10), cycle)
}

// uniqueNullsEqual and indexNullsEqual report a key declared NULLS NOT
// DISTINCT (PostgreSQL 15): NULLs in it are equal, as in SQL Server's
// plain unique constraint and index, so it stays unfiltered.
func uniqueNullsEqual(u pgcatalog.Constraint) bool { return u.NullsNotDistinct }

func indexNullsEqual(idx pgcatalog.Index) bool { return idx.NullsNotDistinct }
