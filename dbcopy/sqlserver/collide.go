package sqlserver

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// keyCheck is a unique key whose values PostgreSQL keeps apart but SQL
// Server's collation might not.
type keyCheck struct {
	Table   string
	Kind    string // "primary key", "unique constraint", "unique index"
	Name    string
	Columns []string
	// Text marks the columns compared under the collation.
	Text []bool
	// NullsEqual is true for constraints: SQL Server's unique constraint
	// allows one NULL. A unique index is created filtered to rows without
	// NULLs (see createIndexSQL), so such rows are left out.
	NullsEqual bool
}

// collision is a group of keys distinct in PostgreSQL and equal under the
// collation.
type collision struct {
	Check  keyCheck
	Values []string // each key as text, e.g. ("Bob") or ("a", NULL)
}

// Bounds on what a refusal quotes.
const (
	maxCollisionGroups = 10
	maxValuesPerGroup  = 5
)

// keyChecks lists the keys of the plan that a collation can break: those
// with a text column, and unique constraints with a nullable column.
func keyChecks(p *loadPlan) []keyCheck {
	var checks []keyCheck
	for _, t := range p.Tables {
		text := map[string]bool{}
		nullable := map[string]bool{}
		for _, c := range t.Map.Columns {
			text[c.Name] = c.Target.IsText()
			nullable[c.Name] = c.Nullable
		}
		add := func(kind, name string, cols []string, nullsEqual bool) {
			if !slices.ContainsFunc(p.Keys, func(s step) bool { return s.Table == t.Source.Name && s.Name == name }) {
				return // not created: nothing to collide
			}
			k := keyCheck{Table: t.Source.Name, Kind: kind, Name: name, Columns: cols, NullsEqual: nullsEqual}
			relevant := false
			for _, c := range cols {
				k.Text = append(k.Text, text[c])
				relevant = relevant || text[c] || (nullsEqual && nullable[c])
			}
			if relevant {
				checks = append(checks, k)
			}
		}
		if pk := t.Source.PrimaryKey; pk != nil {
			add("primary key", pk.Name, pk.Columns, true)
		}
		for _, u := range t.Source.Uniques {
			add("unique constraint", u.Name, u.Columns, true)
		}
		for _, idx := range t.Source.Indexes {
			if !idx.Unique || idx.NotConvertible != "" {
				continue
			}
			cols := make([]string, len(idx.Columns))
			for i, c := range idx.Columns {
				cols[i] = c.Name
			}
			add("unique index", idx.Name, cols, false)
		}
	}
	return checks
}

// normalise is the row's key as the collation compares it; ok is false
// for a row a filtered index leaves out.
func (k keyCheck) normalise(c collation, row []*string) (key string, ok bool) {
	var b strings.Builder
	for i, v := range row {
		switch {
		case v == nil && !k.NullsEqual:
			return "", false
		case v == nil:
			b.WriteString("\x00N")
		case k.Text[i]:
			b.WriteString("\x01" + c.key(*v))
		default:
			b.WriteString("\x01" + *v)
		}
		b.WriteByte(0)
	}
	return b.String(), true
}

// findCollisions groups rows whose keys are equal under the collation. It
// is the exact step, run on the few rows whose hashes collided.
func findCollisions(c collation, k keyCheck, rows [][]*string) []collision {
	groups := map[string][]string{}
	var order []string
	for _, row := range rows {
		key, ok := k.normalise(c, row)
		if !ok {
			continue
		}
		if _, seen := groups[key]; !seen {
			order = append(order, key)
		}
		groups[key] = append(groups[key], formatKey(row))
	}
	var out []collision
	for _, key := range order {
		if values := groups[key]; len(values) > 1 {
			sort.Strings(values)
			out = append(out, collision{Check: k, Values: values})
		}
	}
	return out
}

func formatKey(row []*string) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = fmt.Sprintf("%q", *v)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// repeated returns the hashes that occur more than once. It sorts hashes.
func repeated(hashes []uint64) map[uint64]bool {
	slices.Sort(hashes)
	out := map[uint64]bool{}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			out[hashes[i]] = true
		}
	}
	return out
}

// describeCollisions is the refusal's text.
func describeCollisions(c collation, found []collision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the target database's collation %s would make these keys collide (they are distinct in PostgreSQL):", c.name)
	for i, col := range found {
		if i == maxCollisionGroups {
			fmt.Fprintf(&b, "\n  ... and %d more", len(found)-i)
			break
		}
		values := col.Values
		more := ""
		if len(values) > maxValuesPerGroup {
			more = fmt.Sprintf(" (+%d more)", len(values)-maxValuesPerGroup)
			values = values[:maxValuesPerGroup]
		}
		fmt.Fprintf(&b, "\n  table %q %s %q: %s%s", col.Check.Table, col.Check.Kind, col.Check.Name, strings.Join(values, " = "), more)
	}
	b.WriteString("\nfix the data, or create the database with a case- and accent-sensitive collation (e.g. Latin1_General_100_CS_AS_SC_UTF8)")
	return b.String()
}

// scanCollisions streams a key's columns from the staging database twice
// at most: once to hash every normalised key (8 bytes a row, never the
// values), and, only when hashes repeat, again to compare the few
// candidate rows exactly.
func scanCollisions(ctx context.Context, conn *pgx.Conn, schema string, c collation, k keyCheck) ([]collision, error) {
	seed := maphash.MakeSeed()
	var hashes []uint64
	err := streamKeys(ctx, conn, schema, k, func(row []*string) error {
		if key, ok := k.normalise(c, row); ok {
			hashes = append(hashes, maphash.String(seed, key))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	suspects := repeated(hashes)
	hashes = nil
	if len(suspects) == 0 {
		return nil, nil
	}
	var candidates [][]*string
	err = streamKeys(ctx, conn, schema, k, func(row []*string) error {
		if key, ok := k.normalise(c, row); ok && suspects[maphash.String(seed, key)] {
			candidates = append(candidates, copyRow(row))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return findCollisions(c, k, candidates), nil
}

// keysQuery reads a key's columns as text.
func keysQuery(schema string, k keyCheck) string {
	cols := make([]string, len(k.Columns))
	for i, c := range k.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize() + "::text"
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + pgx.Identifier{schema, k.Table}.Sanitize()
}

func streamKeys(ctx context.Context, conn *pgx.Conn, schema string, k keyCheck, fn func(row []*string) error) error {
	rows, err := conn.Query(ctx, keysQuery(schema, k))
	if err != nil {
		return fmt.Errorf("read key %q of table %q from staging: %w", k.Name, k.Table, err)
	}
	defer rows.Close()
	row := make([]*string, len(k.Columns))
	dest := make([]any, len(k.Columns))
	for i := range row {
		dest[i] = &row[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read key %q of table %q from staging: %w", k.Name, k.Table, err)
	}
	return nil
}

// copyRow copies the values too: the scan may reuse them.
func copyRow(row []*string) []*string {
	out := make([]*string, len(row))
	for i, v := range row {
		if v != nil {
			s := *v
			out[i] = &s
		}
	}
	return out
}
