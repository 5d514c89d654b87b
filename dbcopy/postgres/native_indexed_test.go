package postgres

import (
	"testing"

	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// TestIndexedTables checks the split rule's input against the index and
// key definitions themselves: indexedTables finds the tables through the
// entries' dependencies, the expectation names them from the SQL.
func TestIndexedTables(t *testing.T) {
	for _, path := range []string{extractSampleDump(t), "../../snapshot/pgdump/testdata/mendix-gzip.backup"} {
		af, err := pgdump.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		a := af.Archive
		plan, err := buildPlan(a)
		if err != nil {
			t.Fatal(err)
		}
		tableData := map[int]int{}
		tableID := map[string]int{}
		for i := range a.Entries {
			switch e := &a.Entries[i]; e.Desc {
			case "TABLE DATA":
				tableData[e.Dependencies[0]] = e.DumpID
			case "TABLE":
				tableID[e.Namespace+"."+e.Tag] = e.DumpID
			}
		}
		want := map[int]bool{}
		for i := range a.Entries {
			e := &a.Entries[i]
			var schema, table string
			switch e.Desc {
			case "INDEX":
				d, err := e.IndexDefinition()
				if err != nil {
					t.Fatal(err)
				}
				schema, table = d.Schema, d.Table
			case "CONSTRAINT":
				d, err := e.ConstraintDefinition()
				if err != nil {
					t.Fatal(err)
				}
				schema, table = d.Schema, d.Table
			default:
				continue
			}
			want[tableID[schema+"."+table]] = true
		}
		got := indexedTables(a, plan.rest, tableData)
		if len(want) == 0 || len(want) == len(tableID) {
			t.Fatalf("%s: %d of %d tables indexed: the archive must have both kinds", path, len(want), len(tableID))
		}
		for id := range tableID {
			if tid := tableID[id]; got[tid] != want[tid] {
				t.Errorf("%s: table %s: indexed %v, its definitions say %v", path, id, got[tid], want[tid])
			}
		}
		af.Close()
	}
}
