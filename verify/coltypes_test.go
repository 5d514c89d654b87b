package verify

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// everyTypeSchema is a Mendix-style table with every column type the
// comparison normalises and the clauses pg_dump writes after a type.
const everyTypeSchema = `
CREATE TABLE "module$everytype" (
	id bigint PRIMARY KEY,
	"order" varchar(200) COLLATE "C" DEFAULT 'x, (y)' NOT NULL,
	"select" text,
	total numeric(28,8) DEFAULT 0.0,
	plain numeric,
	quantity integer CHECK (quantity >= 0),
	priority smallint,
	weight double precision,
	ratio real,
	paid boolean,
	signature bytea,
	orderdate timestamp,
	stamp3 timestamp(3),
	shipped timestamptz,
	birthday date,
	alarm time,
	alarmtz time with time zone,
	guid uuid,
	doc json,
	docb jsonb,
	tags integer[],
	"Mixed Case" character(3),
	"quote""d" int,
	twice bigint GENERATED ALWAYS AS (id * 2) STORED,
	CONSTRAINT "not 42, (total)" CHECK (total <> 42 AND "order" <> ')')
);
`

// everyTypeColumns is what ColumnTypes must read from pg_dump's
// definition of everyTypeSchema.
var everyTypeColumns = []Column{
	{"id", "bigint"},
	{"order", "character varying(200)"},
	{"select", "text"},
	{"total", "numeric(28,8)"},
	{"plain", "numeric"},
	{"quantity", "integer"},
	{"priority", "smallint"},
	{"weight", "double precision"},
	{"ratio", "real"},
	{"paid", "boolean"},
	{"signature", "bytea"},
	{"orderdate", "timestamp without time zone"},
	{"stamp3", "timestamp(3) without time zone"},
	{"shipped", "timestamp with time zone"},
	{"birthday", "date"},
	{"alarm", "time without time zone"},
	{"alarmtz", "time with time zone"},
	{"guid", "uuid"},
	{"doc", "json"},
	{"docb", "jsonb"},
	{"tags", "integer[]"},
	{"Mixed Case", "character(3)"},
	{`quote"d`, "integer"},
	{"twice", "bigint"},
}

// TestColumnTypesFixture reads the definition pg_dump 15 wrote for
// everyTypeSchema (testdata/everytype.sql, captured from a real dump).
func TestColumnTypesFixture(t *testing.T) {
	defn, err := os.ReadFile("testdata/everytype.sql")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ColumnTypes(string(defn))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, everyTypeColumns) {
		t.Errorf("ColumnTypes:\n got  %q\n want %q", got, everyTypeColumns)
	}
}

// TestColumnTypesFromPgDump runs the local pg_dump, whatever its version.
func TestColumnTypesFromPgDump(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := testenv.Postgres(t)
	url := testenv.NewDatabase(t, c)
	execSQL(t, ctx, url, everyTypeSchema)
	a, _ := readArchive(t, pgDump(t, ctx, c, url))
	e := findEntry(t, a, "TABLE", "module$everytype")
	got, err := ColumnTypes(e.Defn)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, everyTypeColumns) {
		t.Errorf("ColumnTypes of\n%s\n got  %q\n want %q", e.Defn, got, everyTypeColumns)
	}
	schema, table, key, ok := primaryKey(findEntry(t, a, "CONSTRAINT", "module$everytype module$everytype_pkey").Defn)
	if !ok || schema != "public" || table != "module$everytype" || !reflect.DeepEqual(key, []string{"id"}) {
		t.Errorf("primaryKey = %q, %q, %q, %v; want public, module$everytype, [id], true", schema, table, key, ok)
	}
}

func TestColumnTypes(t *testing.T) {
	cases := []struct {
		name string
		defn string
		want []Column
	}{
		{"no columns", "CREATE TABLE public.empty (\n);\n", []Column{}},
		{"unlogged, unqualified", "CREATE UNLOGGED TABLE t (\n    a text\n);\n", []Column{{"a", "text"}}},
		{
			"quoted names with parentheses and quotes",
			"CREATE TABLE public.\"odd(name\" (\n    \"a,b\" integer NOT NULL,\n    \"c)\"\"\" text COLLATE pg_catalog.\"C\",\n    \"CONSTRAINT\" bigint\n);\n",
			[]Column{{"a,b", "integer"}, {`c)"`, "text"}, {"CONSTRAINT", "bigint"}},
		},
		{
			"defaults and checks with commas, parentheses and escapes",
			"CREATE TABLE public.t (\n    a character varying(10) DEFAULT 'a, b)'::character varying,\n    b text DEFAULT E'it\\'s, )',\n    c numeric(10,2) CONSTRAINT c_check CHECK ((c > (0)::numeric)),\n    CONSTRAINT t_check CHECK ((a <> ','::text))\n);\n",
			[]Column{{"a", "character varying(10)"}, {"b", "text"}, {"c", "numeric(10,2)"}},
		},
		{
			"types of several words, arrays, user types",
			"CREATE TABLE public.t (\n    a timestamp(6) with time zone NOT NULL,\n    b double precision[],\n    c public.\"Mood\",\n    d interval day to second(3),\n    e bit varying(5) GENERATED ALWAYS AS (x) STORED\n);\n",
			[]Column{{"a", "timestamp(6) with time zone"}, {"b", "double precision[]"}, {"c", `public."Mood"`}, {"d", "interval day to second(3)"}, {"e", "bit varying(5)"}},
		},
		{"options after the list", "CREATE TABLE public.t (\n    a text\n)\nWITH (fillfactor='70');\n", []Column{{"a", "text"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ColumnTypes(c.defn)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestColumnTypesRejects(t *testing.T) {
	for _, defn := range []string{
		"",
		"CREATE VIEW public.v AS SELECT 1;",
		"CREATE TABLE public.child PARTITION OF public.parent\nFOR VALUES IN (1);\n",
		"CREATE TABLE public.t OF public.mytype;",
		"CREATE TABLE public.t (\n    a text,\n",
		"CREATE TABLE public.t (\n    a text DEFAULT 'unterminated\n);\n",
		"CREATE TABLE public.t (\n    a\n);\n",
		"CREATE TABLE public.\"t (\n    a text\n);\n",
	} {
		if got, err := ColumnTypes(defn); err == nil {
			t.Errorf("ColumnTypes(%q) = %q, want an error", defn, got)
		}
	}
}

func TestPrimaryKey(t *testing.T) {
	cases := []struct {
		defn          string
		schema, table string
		key           []string
	}{
		{"ALTER TABLE ONLY public.\"system$thumbnail_image\"\n    ADD CONSTRAINT \"system$thumbnail_image_pkey\" PRIMARY KEY (\"system$thumbnailid\", \"system$imageid\");\n",
			"public", "system$thumbnail_image", []string{"system$thumbnailid", "system$imageid"}},
		{"ALTER TABLE ONLY public.\"myfirstmodule$order\"\n    ADD CONSTRAINT \"myfirstmodule$order_pkey\" PRIMARY KEY (id);\n",
			"public", "myfirstmodule$order", []string{"id"}},
		{"ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (a);", "", "t", []string{"a"}},
		{"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_a_key UNIQUE (a);\n", "", "", nil},
		{"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_check CHECK ((a > 0));\n", "", "", nil},
		{"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (a,", "", "", nil},
	}
	for _, c := range cases {
		schema, table, key, ok := primaryKey(c.defn)
		if ok != (c.key != nil) || schema != c.schema || table != c.table || !reflect.DeepEqual(key, c.key) {
			t.Errorf("primaryKey(%q) = %q, %q, %q, %v; want %q, %q, %q", c.defn, schema, table, key, ok, c.schema, c.table, c.key)
		}
	}
}

// findEntry returns the archive's entry of kind desc and tag.
func findEntry(t *testing.T, a *pgdump.Archive, desc, tag string) *pgdump.Entry {
	t.Helper()
	for i := range a.Entries {
		if e := &a.Entries[i]; e.Desc == desc && e.Tag == tag {
			return e
		}
	}
	t.Fatalf("the dump has no %s %s", desc, tag)
	return nil
}
