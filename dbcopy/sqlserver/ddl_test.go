package sqlserver

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/typemap"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func typ(text, base string, length, precision, scale int) pgcatalog.Type {
	return pgcatalog.Type{Text: text, Base: base, Length: length, Precision: precision, Scale: scale, Kind: 'b'}
}

var (
	pgBigint    = typ("bigint", "bigint", -1, -1, -1)
	pgInteger   = typ("integer", "integer", -1, -1, -1)
	pgSmallint  = typ("smallint", "smallint", -1, -1, -1)
	pgBool      = typ("boolean", "boolean", -1, -1, -1)
	pgText      = typ("text", "text", -1, -1, -1)
	pgTimestamp = typ("timestamp without time zone", "timestamp without time zone", -1, -1, -1)
	pgTstz      = typ("timestamp with time zone", "timestamp with time zone", -1, -1, -1)
	pgDecimal   = typ("numeric(28,8)", "numeric", -1, 28, 8)
	pgFloat     = typ("double precision", "double precision", -1, -1, -1)
	pgBytea     = typ("bytea", "bytea", -1, -1, -1)
	pgUUID      = typ("uuid", "uuid", -1, -1, -1)
)

func pgVarchar(n int) pgcatalog.Type {
	return typ(fmt.Sprintf("character varying(%d)", n), "character varying", n, -1, -1)
}

func col(name string, t pgcatalog.Type, notNull bool) pgcatalog.Column {
	return pgcatalog.Column{Name: name, Type: t, NotNull: notNull}
}

func pk(table string, cols ...string) *pgcatalog.Constraint {
	return &pgcatalog.Constraint{Name: table + "_pkey", Columns: cols}
}

// mendixSchema is the catalog of a small Mendix app, as pgcatalog.Read
// reports it (the same tables internal/samplegen builds).
func mendixSchema() *pgcatalog.Schema {
	const maxBig = int64(9223372036854775807)
	return &pgcatalog.Schema{
		Name: "public",
		Tables: []*pgcatalog.Table{
			{Name: "mendixsystem$entity", Columns: []pgcatalog.Column{
				col("id", pgUUID, true), col("entity_name", pgVarchar(255), true), col("table_name", pgVarchar(255), true), col("superentity_id", pgUUID, false),
			}, PrimaryKey: pk("mendixsystem$entity", "id"),
				Indexes: []pgcatalog.Index{{Name: "idx_mendixsystem$entity_entity_name", Unique: true, Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "entity_name"}}}}},
			{Name: "mendixsystem$version", Columns: []pgcatalog.Column{
				col("versionnumber", pgVarchar(30), true), col("lastsyncdate", pgTimestamp, false), col("modelversion", pgVarchar(200), false),
			}},
			{Name: "myfirstmodule$order", Columns: []pgcatalog.Column{
				col("id", pgBigint, true), col("number", pgBigint, false), col("order", pgVarchar(200), false), col("select", pgText, false),
				col("total", pgDecimal, false), col("quantity", pgInteger, false), col("priority", pgSmallint, false), col("weight", pgFloat, false),
				col("paid", pgBool, false), col("notes", pgText, false), col("signature", pgBytea, false), col("orderdate", pgTimestamp, false),
				col("shipped", pgTstz, false), col("createddate", pgTimestamp, false), col("changeddate", pgTimestamp, false),
			}, PrimaryKey: pk("myfirstmodule$order", "id"),
				Uniques: []pgcatalog.Constraint{{Name: "uniq_myfirstmodule$order_number", Columns: []string{"number"}}},
				Indexes: []pgcatalog.Index{{Name: "idx_myfirstmodule$order_createddate", Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "createddate"}}}}},
			{Name: "myfirstmodule$order_customer", Columns: []pgcatalog.Column{
				col("myfirstmodule$orderid", pgBigint, true), col("myfirstmodule$customerid", pgBigint, true),
			}, PrimaryKey: pk("myfirstmodule$order_customer", "myfirstmodule$orderid", "myfirstmodule$customerid"),
				Indexes: []pgcatalog.Index{{Name: "idx_myfirstmodule$order_customer_customer", Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "myfirstmodule$customerid"}, {Name: "myfirstmodule$orderid"}}}}},
			{Name: "system$filedocument", Columns: []pgcatalog.Column{
				col("id", pgBigint, true), col("__uuid__", pgVarchar(36), false), col("__filename__", pgBigint, false), col("name", pgVarchar(400), false),
				col("deleteafterdownload", pgBool, false), col("hascontents", pgBool, false), col("size", pgBigint, false),
				col("submetaobjectname", pgVarchar(255), false), col("createddate", pgTimestamp, false), col("changeddate", pgTimestamp, false),
				col("system$owner", pgBigint, false), col("system$changedby", pgBigint, false),
			}, PrimaryKey: pk("system$filedocument", "id"),
				Indexes: []pgcatalog.Index{{Name: "idx_system$filedocument_submetaobjectname", Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "submetaobjectname"}, {Name: "id"}}}}},
			{Name: "system$user", Columns: []pgcatalog.Column{
				col("id", pgBigint, true), col("name", pgVarchar(100), false), col("password", pgVarchar(100), false),
				col("lastlogin", pgTimestamp, false), col("blocked", pgBool, false), col("active", pgBool, false),
			}, PrimaryKey: pk("system$user", "id"),
				Indexes: []pgcatalog.Index{{Name: "idx_system$user_name", Unique: true, Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "name"}}}}},
		},
		Sequences: []*pgcatalog.Sequence{
			{Name: "myfirstmodule$order_number_mxseq", DataType: "bigint", Start: 1, Increment: 1, Min: 1, Max: maxBig, LastValue: 1000, IsCalled: true},
			{Name: "system$filedocument_fileid_mxseq", DataType: "bigint", Start: 1, Increment: 1, Min: 1, Max: maxBig, LastValue: 1},
		},
	}
}

// edgeSchema holds what the converter must handle or refuse.
func edgeSchema() *pgcatalog.Schema {
	s := &pgcatalog.Schema{Name: "public", Tables: []*pgcatalog.Table{
		{Name: "odd]name$table", Columns: []pgcatalog.Column{
			{Name: "id", Type: pgInteger, NotNull: true, Default: "'-1'::integer"},
			{Name: "we]ird", Type: pgVarchar(10), Default: "'it''s'::character varying"},
			{Name: "flag", Type: pgBool, NotNull: true, Default: "false"},
			{Name: "created", Type: pgTimestamp, Default: "now()"},
			{Name: "counter", Type: pgBigint, Identity: "d", NotNull: true},
			{Name: "amount", Type: typ("numeric", "numeric", -1, -1, -1)},
			{Name: "body", Type: pgText},
			{Name: "code", Type: pgVarchar(1000)},
		}, PrimaryKey: &pgcatalog.Constraint{Name: "pk]odd", Columns: []string{"id"}},
			Uniques: []pgcatalog.Constraint{{Name: "uq_body", Columns: []string{"body"}}},
			Indexes: []pgcatalog.Index{
				{Name: "idx_desc", Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "created", Descending: true}, {Name: "id"}}, Include: []string{"we]ird"}},
				{Name: "idx_unique_nullable", Unique: true, Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "we]ird"}, {Name: "flag"}}},
				{Name: "idx_partial", Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "id"}}, NotConvertible: "partial index", Definition: "CREATE INDEX idx_partial ON public.t USING btree (id) WHERE flag"},
				{Name: "idx_body", Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "body"}}},
				{Name: "idx_code", Method: "btree", Columns: []pgcatalog.IndexColumn{{Name: "code"}}},
			},
			ForeignKeys: []pgcatalog.ForeignKey{
				{Name: "fk_self", Columns: []string{"counter"}, RefSchema: "public", RefTable: "odd]name$table", RefColumns: []string{"id"}, OnDelete: "CASCADE", OnUpdate: "RESTRICT"},
				{Name: "fk_other", Columns: []string{"counter"}, RefSchema: "other", RefTable: "x", RefColumns: []string{"id"}, OnDelete: "NO ACTION", OnUpdate: "NO ACTION"},
			}},
	}, Sequences: []*pgcatalog.Sequence{
		{Name: "exhausted_seq", DataType: "integer", Increment: 1, Min: 1, Max: 10, LastValue: 10, IsCalled: true},
		{Name: "down_seq", DataType: "bigint", Increment: -2, Min: -100, Max: -1, LastValue: -7, IsCalled: true, Cycle: true},
	}}
	return s
}

func TestPlanGolden(t *testing.T) {
	edgeRules, err := typemap.Parse(strings.NewReader(`{"columns": {"odd]name$table.nosuch": {"to": "int"}, "odd]name$table.amount": {"to": "decimal(38,10)"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		schema *pgcatalog.Schema
		rules  *typemap.Mapper
		target string
	}{
		{"mendix", mendixSchema(), typemap.New(), "dbo"},
		{"edge", edgeSchema(), edgeRules, "app]schema"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := newPlan(tc.target, tc.schema, tc.rules).Script()
			golden := filepath.Join("testdata", tc.name+".sql")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("plan differs from %s (run go test -update after checking):\n%s", golden, got)
			}
		})
	}
}

func TestPlanRefusesWhatCannotBeConverted(t *testing.T) {
	p := newPlan("dbo", edgeSchema(), typemap.New())
	if want := `column "amount" (numeric): unconstrained numeric`; len(p.Problems) != 1 || !strings.Contains(p.Problems[0], want) {
		t.Errorf("problems %q, want one containing %q", p.Problems, want)
	}
	rules, err := typemap.Parse(strings.NewReader(`{"types": {"numeric": {"to": "decimal(38,10)"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	p = newPlan("dbo", edgeSchema(), rules)
	if want := `unique constraint "uq_body": column "body" is nvarchar(max), which SQL Server cannot index`; len(p.Problems) != 1 || !strings.Contains(p.Problems[0], want) {
		t.Errorf("problems %q, want one containing %q", p.Problems, want)
	}
	if p := newPlan("dbo", mendixSchema(), typemap.New()); len(p.Problems) != 0 {
		t.Errorf("Mendix schema refused: %v", p.Problems)
	}
}

func TestTranslateDefault(t *testing.T) {
	nv, _ := typemap.ParseTarget("nvarchar(10)")
	bit, _ := typemap.ParseTarget("bit")
	i, _ := typemap.ParseTarget("int")
	dec, _ := typemap.ParseTarget("decimal(10,2)")
	tests := []struct {
		expr   string
		target typemap.Target
		want   string
		ok     bool
	}{
		{"0", i, "(0)", true},
		{"'-1'::integer", i, "(-1)", true},
		{"1.5", dec, "(1.5)", true},
		{"'1.50'::numeric", dec, "(1.50)", true},
		{"'abc'::character varying", nv, "(N'abc')", true},
		{"'it''s'::text", nv, "(N'it''s')", true},
		{"''::character varying", nv, "(N'')", true},
		{"true", bit, "(1)", true},
		{"false", bit, "(0)", true},
		{"NULL::character varying", nv, "(NULL)", true},
		{"now()", nv, "", false},
		{"nextval('seq'::regclass)", i, "", false},
		{"'abc'::character varying", i, "", false},
		{"'x'); DROP TABLE t; --'", nv, "", false},
	}
	for _, tc := range tests {
		got, ok := translateDefault(tc.expr, tc.target)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s for %s: got %q %v, want %q %v", tc.expr, tc.target, got, ok, tc.want, tc.ok)
		}
	}
}

func TestQuoting(t *testing.T) {
	tests := []struct{ got, want string }{
		{quoteIdent("system$user"), "[system$user]"},
		{quoteIdent("a]b"), "[a]]b]"},
		{quoteIdent("]]"), "[]]]]]"},
		{quoteIdent("order"), "[order]"},
		{qualified("dbo", "x]"), "[dbo].[x]]]"},
		{quoteString("it's"), "N'it''s'"},
		{quoteString("😀"), "N'😀'"},
		{quoteList([]string{"user", "a]"}), "[user], [a]]]"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

// TestPlanGoldenFromDump builds the plan from dumps written by the real
// pg_dump, as a load does: the committed sample backup, and a pg_dump 15
// archive (made from testdata/nulls-not-distinct.source.sql) whose unique
// keys over nullable columns are ordinary and NULLS NOT DISTINCT, as
// constraints and as indexes.
func TestPlanGoldenFromDump(t *testing.T) {
	tests := []struct{ name, backup, golden string }{
		{"sample", "../../testdata/sample.tar.gz", "sample.sql"},
		{"nulls not distinct", "testdata/nulls-not-distinct.backup", "nulls-not-distinct.sql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := newPlan("dbo", dumpSchema(t, tc.backup), typemap.New()).Script()
			golden := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("plan differs from %s (run go test -update after checking):\n%s", golden, got)
			}
		})
	}
}

// dumpSchema reads the public schema of a backup's dump.
func dumpSchema(t *testing.T, path string) *pgcatalog.Schema {
	t.Helper()
	backup, err := snapshot.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	dump, cleanup, err := backup.DumpFile(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	archive, err := pgdump.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	schema, err := pgcatalog.FromArchive(archive.Archive, "public")
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// TestNullsNotDistinctKeys pins what the plan makes of each kind of
// unique key over nullable columns in the pg_dump 15 archive: ordinary
// ones become unique indexes filtered to rows without NULLs, NULLS NOT
// DISTINCT ones SQL Server's own unfiltered forms; the collation check
// leaves out NULL rows of the first kind only.
func TestNullsNotDistinctKeys(t *testing.T) {
	p := newPlan("dbo", dumpSchema(t, "testdata/nulls-not-distinct.backup"), typemap.New())
	steps := map[string]step{}
	for _, s := range p.Keys {
		steps[s.Name] = s
	}
	checks := map[string]keyCheck{}
	for _, k := range keyChecks(p) {
		checks[k.Name] = k
	}
	tests := []struct {
		name, kind string
		filtered   bool
		nullsEqual bool
	}{
		{"uniq_myfirstmodule$account_email", "unique index", true, false},
		{"uniq_myfirstmodule$account_profile", "unique", false, true},
		{"idx_myfirstmodule$account_code", "index", true, false},
		{"idx_myfirstmodule$account_code_region", "index", false, true},
	}
	for _, tc := range tests {
		s, ok := steps[tc.name]
		if !ok {
			t.Errorf("%s: not in the plan", tc.name)
			continue
		}
		if s.Kind != tc.kind || strings.Contains(s.SQL, " WHERE ") != tc.filtered {
			t.Errorf("%s: kind %q, SQL %s; want kind %q, filtered %v", tc.name, s.Kind, s.SQL, tc.kind, tc.filtered)
		}
		if k, ok := checks[tc.name]; ok && k.NullsEqual != tc.nullsEqual {
			t.Errorf("%s: collation check NullsEqual %v, want %v", tc.name, k.NullsEqual, tc.nullsEqual)
		}
	}
	// The bigint key has no text column: the collation cannot merge it.
	if _, ok := checks["uniq_myfirstmodule$account_profile"]; ok {
		t.Errorf("a key without text columns is checked against the collation")
	}
}
