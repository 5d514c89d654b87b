package sqlserver

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"

	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
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
	// NullsEqual is true for a key declared NULLS NOT DISTINCT. Other
	// keys with nullable columns are created filtered to the rows without
	// a NULL in the key (PostgreSQL's rule: NULLs never collide), so such
	// rows are left out.
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
// with a text column.
func keyChecks(p *loadPlan) []keyCheck {
	var checks []keyCheck
	for _, t := range p.Tables {
		text := map[string]bool{}
		for _, c := range t.Map.Columns {
			text[c.Name] = c.Target.IsText()
		}
		add := func(kind, name string, cols []string, nullsEqual bool) {
			if !slices.ContainsFunc(p.Keys, func(s step) bool { return s.Table == t.Source.Name && s.Name == name }) {
				return // not created: nothing to collide
			}
			k := keyCheck{Table: t.Source.Name, Kind: kind, Name: name, Columns: cols, NullsEqual: nullsEqual}
			relevant := false
			for _, c := range cols {
				k.Text = append(k.Text, text[c])
				relevant = relevant || text[c]
			}
			if relevant {
				checks = append(checks, k)
			}
		}
		if pk := t.Source.PrimaryKey; pk != nil {
			add("primary key", pk.Name, pk.Columns, true)
		}
		for _, u := range t.Source.Uniques {
			add("unique constraint", u.Name, u.Columns, uniqueNullsEqual(u))
		}
		for _, idx := range t.Source.Indexes {
			if !idx.Unique || idx.NotConvertible != "" {
				continue
			}
			cols := make([]string, len(idx.Columns))
			for i, c := range idx.Columns {
				cols[i] = c.Name
			}
			add("unique index", idx.Name, cols, indexNullsEqual(idx))
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

// scanCollisions reads the key columns of the checked tables from the
// dump's COPY data, a table at a time and at most twice: once to hash
// every normalised key of every check (8 bytes a row, never the values),
// and, only when hashes repeat, again to compare the few candidate rows
// exactly.
func (p *prepared) scanCollisions(ctx context.Context, checks []keyCheck) ([]collision, error) {
	byTable := map[string][]keyCheck{}
	var tables []string
	for _, k := range checks {
		if byTable[k.Table] == nil {
			tables = append(tables, k.Table)
		}
		byTable[k.Table] = append(byTable[k.Table], k)
	}
	var out []collision
	for _, name := range tables {
		found, err := p.tableCollisions(ctx, name, byTable[name])
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

func (p *prepared) tableCollisions(ctx context.Context, table string, checks []keyCheck) ([]collision, error) {
	var pt *plannedTable
	for _, t := range p.plan.Tables {
		if t.Source.Name == table {
			pt = t
		}
	}
	if pt == nil {
		return nil, nil
	}
	// Where each key column is in a row of table columns.
	position := map[string]int{}
	for i, c := range pt.Map.Columns {
		position[c.Name] = i
	}
	keys := make([][]int, len(checks))
	for i, k := range checks {
		for _, c := range k.Columns {
			j, ok := position[c]
			if !ok {
				return nil, fmt.Errorf("table %q key %q: no column %q", table, k.Name, c)
			}
			keys[i] = append(keys[i], j)
		}
	}
	seed := maphash.MakeSeed()
	hashes := make([][]uint64, len(checks))
	values := make([][]*string, len(checks))
	for i, k := range checks {
		values[i] = make([]*string, len(k.Columns))
	}
	_, err := p.streamTable(ctx, pt, func(fields []pgdump.Field) error {
		for i, k := range checks {
			keyValues(values[i], fields, keys[i])
			if key, ok := k.normalise(p.collation, values[i]); ok {
				hashes[i] = append(hashes[i], maphash.String(seed, key))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the unique keys of table %q: %w", table, err)
	}
	suspects := make([]map[uint64]bool, len(checks))
	anySuspect := false
	for i := range checks {
		suspects[i] = repeated(hashes[i])
		hashes[i] = nil
		anySuspect = anySuspect || len(suspects[i]) > 0
	}
	if !anySuspect {
		return nil, nil
	}
	candidates := make([][][]*string, len(checks))
	_, err = p.streamTable(ctx, pt, func(fields []pgdump.Field) error {
		for i, k := range checks {
			if len(suspects[i]) == 0 {
				continue
			}
			keyValues(values[i], fields, keys[i])
			if key, ok := k.normalise(p.collation, values[i]); ok && suspects[i][maphash.String(seed, key)] {
				candidates[i] = append(candidates[i], copyRow(values[i]))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the unique keys of table %q: %w", table, err)
	}
	var out []collision
	for i, k := range checks {
		out = append(out, findCollisions(p.collation, k, candidates[i])...)
	}
	return out, nil
}

// keyValues fills dst with the text of the fields at positions (nil for
// NULL). The strings are the fields' decoded COPY text, PostgreSQL's text
// form of each value.
func keyValues(dst []*string, fields []pgdump.Field, positions []int) {
	for i, j := range positions {
		if fields[j].Null {
			dst[i] = nil
			continue
		}
		s := string(fields[j].Value)
		dst[i] = &s
	}
}

// copyRow copies the row: keyValues reuses it.
func copyRow(row []*string) []*string {
	return append([]*string(nil), row...)
}
