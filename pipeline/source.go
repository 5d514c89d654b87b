package pipeline

import (
	"fmt"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// describeDump turns the archive's header and table of contents into a
// dbcopy.Source (without row counts: see describeAndCount).
func describeDump(a *pgdump.Archive, dumpPath string) *dbcopy.Source {
	src := &dbcopy.Source{
		DumpPath:        dumpPath,
		Fingerprint:     a.Fingerprint(),
		ArchiveVersion:  a.Header.Version(),
		MinRestoreMajor: a.Header.MinRestoreMajor(),
		ServerVersion:   a.Header.ServerVersion,
		DumpVersion:     a.Header.DumpVersion,
	}
	for i := range a.Entries {
		e := &a.Entries[i]
		if src.Schema == "" && e.Desc == "TABLE" {
			src.Schema = e.Namespace
		}
		switch e.Desc {
		case "TABLE":
			src.Tables = append(src.Tables, dbcopy.SourceTable{Name: e.Tag, Rows: -1})
		case "SEQUENCE SET":
			name, value, isCalled, err := e.SequenceValue()
			if err == nil {
				src.Sequences = append(src.Sequences, dbcopy.SourceSequence{Name: pgdump.UnqualifiedName(name), Value: value, IsCalled: isCalled})
			}
		case "INDEX":
			table, _ := e.OwningTable() // "" when its definition names none
			src.Indexes = append(src.Indexes, dbcopy.SourceObject{Kind: e.Desc, Name: e.Tag, Table: table})
		case "CONSTRAINT", "FK CONSTRAINT":
			table, _ := e.OwningTable()
			src.Constraints = append(src.Constraints, dbcopy.SourceObject{Kind: e.Desc, Name: e.ConstraintName(), Table: table})
		}
	}
	if src.Schema == "" {
		src.Schema = "public"
	}
	return src
}

// withCounts returns a copy of src with the row counts filled in.
func withCounts(src *dbcopy.Source, counts map[string]int64) (*dbcopy.Source, error) {
	c := *src
	c.Tables = make([]dbcopy.SourceTable, len(src.Tables))
	for i, t := range src.Tables {
		n, ok := counts[t.Name]
		if !ok {
			return nil, fmt.Errorf("table %s: no row count from the dump", t.Name)
		}
		c.Tables[i] = dbcopy.SourceTable{Name: t.Name, Rows: n}
	}
	return &c, nil
}
