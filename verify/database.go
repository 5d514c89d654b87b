package verify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// DBReport compares the target database with the dump.
type DBReport struct {
	Tables    []TableResult    `json:"tables"`
	Sequences []SequenceResult `json:"sequences"`
	// MissingIndexes and MissingConstraints name ("table.name") what the
	// dump defines and the target lacks.
	MissingIndexes     []string `json:"missingIndexes,omitempty"`
	MissingConstraints []string `json:"missingConstraints,omitempty"`
	// Checksums is true when row contents were compared, not only counts.
	Checksums bool `json:"checksums"`
}

// TableResult is one table's comparison.
type TableResult struct {
	Name       string `json:"name"`
	SourceRows int64  `json:"sourceRows"`
	TargetRows int64  `json:"targetRows"`
	Missing    bool   `json:"missing,omitempty"`
	// ContentOK is set when contents were compared.
	ContentOK *bool `json:"contentOk,omitempty"`
	// Differences shows the first rows that differ, by key.
	Differences []string `json:"differences,omitempty"`
}

// OK reports whether the table matches.
func (t TableResult) OK() bool {
	return !t.Missing && t.SourceRows == t.TargetRows && (t.ContentOK == nil || *t.ContentOK)
}

// SequenceResult is one sequence's comparison: the value nextval() returns.
type SequenceResult struct {
	Name   string `json:"name"`
	Source int64  `json:"sourceNext"`
	Target int64  `json:"targetNext"`
	// Missing is true when the target has no such sequence.
	Missing bool `json:"missing,omitempty"`
}

// OK reports whether the target's sequence will not hand out a value the
// source already used.
func (s SequenceResult) OK() bool { return !s.Missing && s.Target >= s.Source }

// OK reports whether everything matched.
func (d *DBReport) OK() bool {
	for _, t := range d.Tables {
		if !t.OK() {
			return false
		}
	}
	for _, s := range d.Sequences {
		if !s.OK() {
			return false
		}
	}
	return len(d.MissingIndexes) == 0 && len(d.MissingConstraints) == 0
}

// TotalRows is the sum of the source's rows.
func (d *DBReport) TotalRows() int64 {
	var n int64
	for _, t := range d.Tables {
		n += t.SourceRows
	}
	return n
}

// Problems lists each difference as a line for people.
func (d *DBReport) Problems() []string {
	var out []string
	for _, t := range d.Tables {
		switch {
		case t.Missing:
			out = append(out, fmt.Sprintf("table %s: missing in the target (%d rows in the backup)", t.Name, t.SourceRows))
		case t.SourceRows != t.TargetRows:
			out = append(out, fmt.Sprintf("table %s: %d rows in the backup, %d in the target", t.Name, t.SourceRows, t.TargetRows))
		case t.ContentOK != nil && !*t.ContentOK:
			out = append(out, fmt.Sprintf("table %s: contents differ", t.Name))
		}
		for _, diff := range t.Differences {
			out = append(out, fmt.Sprintf("  %s: %s", t.Name, diff))
		}
	}
	for _, s := range d.Sequences {
		switch {
		case s.Missing:
			out = append(out, fmt.Sprintf("sequence %s: missing in the target", s.Name))
		case !s.OK():
			out = append(out, fmt.Sprintf("sequence %s: next value %d in the target, %d in the backup (the app would reuse numbers)", s.Name, s.Target, s.Source))
		}
	}
	out = append(out, ListSome("indexes missing", d.MissingIndexes)...)
	out = append(out, ListSome("constraints missing", d.MissingConstraints)...)
	return out
}

// CompareDatabase checks the target's inventory against the dump: every
// table's row count, every sequence's next value, every index and
// constraint by name.
func CompareDatabase(src *dbcopy.Source, inv *dbcopy.Inventory) *DBReport {
	r := &DBReport{}
	for _, t := range src.Tables {
		got, ok := inv.Tables[t.Name]
		r.Tables = append(r.Tables, TableResult{Name: t.Name, SourceRows: t.Rows, TargetRows: got, Missing: !ok})
	}
	for _, s := range src.Sequences {
		got, ok := inv.Sequences[s.Name]
		r.Sequences = append(r.Sequences, SequenceResult{Name: s.Name, Source: s.NextValue(1), Target: got, Missing: !ok})
	}
	for _, ix := range src.Indexes {
		if key := ix.Table + "." + ix.Name; !inv.Indexes[key] {
			r.MissingIndexes = append(r.MissingIndexes, key)
		}
	}
	for _, c := range src.Constraints {
		if key := c.Table + "." + c.Name; !inv.Constraints[key] {
			r.MissingConstraints = append(r.MissingConstraints, key)
		}
	}
	sort.Slice(r.Tables, func(i, j int) bool { return r.Tables[i].Name < r.Tables[j].Name })
	return r
}

// ListSome is a list of items as one summary line: its kind, its length
// and the first items in order. It sorts items.
func ListSome(kind string, items []string) []string {
	if len(items) == 0 {
		return nil
	}
	sort.Strings(items)
	shown := items
	more := ""
	if len(shown) > maxListed {
		shown = shown[:maxListed]
		more = fmt.Sprintf(" ... and %d more", len(items)-maxListed)
	}
	return []string{fmt.Sprintf("%s (%d): %s%s", kind, len(items), strings.Join(shown, ", "), more)}
}

// maxListed bounds how many items of one kind a summary line shows.
const maxListed = 20
