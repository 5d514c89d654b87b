package export_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// TestExportedSchemaReadsLikeTheSource: the loaders that build their
// schema from a dump's table of contents (pgcatalog.FromArchive) see in an
// exported archive the schema the source's catalog holds.
func TestExportedSchemaReadsLikeTheSource(t *testing.T) {
	cluster := testenv.Postgres(t)
	src := testenv.NewDatabase(t, cluster)
	execSQL(t, src, hostileSchema+samplegen.EveryTypeSchema+everyTypeRows)
	out := filepath.Join(t.TempDir(), "export.tar.gz")
	exportTo(t, src, emptyFolderStore(t), out)
	backup := readBackup(t, out)

	f, err := os.Open(backup.dumpPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := pgdump.ReadTOC(f)
	if err != nil {
		t.Fatal(err)
	}
	fromDump, err := pgcatalog.FromArchive(a, "public")
	if err != nil {
		t.Fatalf("FromArchive of the export: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	fromCatalog, err := pgcatalog.Read(ctx, conn, "public")
	if err != nil {
		t.Fatal(err)
	}
	want, got := describe(fromCatalog), describe(fromDump)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s:\n catalog %s\n export  %s", k, v, got[k])
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s only in the export: %s", k, v)
		}
	}
}

// describe flattens a schema into comparable lines (index definitions
// aside: they depend on the search_path they were printed under).
func describe(s *pgcatalog.Schema) map[string]string {
	out := map[string]string{}
	for _, tb := range s.Tables {
		for _, c := range tb.Columns {
			out["column "+tb.Name+"."+c.Name] = fmt.Sprintf("%s %+v notnull=%v generated=%q", c.Type.Text, c.Type, c.NotNull, c.Generated)
		}
		out["pk "+tb.Name] = fmt.Sprint(tb.PrimaryKey)
		out["uniques "+tb.Name] = fmt.Sprint(tb.Uniques)
		for _, ix := range tb.Indexes {
			ix.Definition = ""
			out["index "+ix.Name] = fmt.Sprintf("%+v", ix)
		}
		out["fks "+tb.Name] = fmt.Sprintf("%+v", tb.ForeignKeys)
	}
	for _, q := range s.Sequences {
		out["sequence "+q.Name] = fmt.Sprintf("%+v", *q)
	}
	return out
}
