package pgdump

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// everyTypeColumns is what TableColumns must read from pg_dump's
// definition of samplegen.EveryTypeSchema.
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

func tableEntry(defn string) *Entry {
	return &Entry{DumpID: 5, Desc: "TABLE", Namespace: "public", Tag: "t", Defn: defn}
}

// TestTableColumnsFixture reads the definition pg_dump 15 wrote for
// samplegen.EveryTypeSchema (testdata/everytype.sql, captured from a real dump).
func TestTableColumnsFixture(t *testing.T) {
	defn, err := os.ReadFile(filepath.Join("testdata", "everytype.sql"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tableEntry(string(defn)).TableColumns()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, everyTypeColumns) {
		t.Errorf("TableColumns:\n got  %q\n want %q", got, everyTypeColumns)
	}
}

// TestTableColumnsFromPgDump runs the local pg_dump, whatever its version.
func TestTableColumnsFromPgDump(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := testenv.Postgres(t)
	url := testenv.NewDatabase(t, c)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, samplegen.EveryTypeSchema)
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(runPgDump(t, filepath.Join(c.BinDir(), "pg_dump"), url, realDump{}))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := findEntry(f.Archive, "TABLE", "module$everytype")
	if e == nil {
		t.Fatal("the dump has no TABLE module$everytype")
	}
	got, err := e.TableColumns()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, everyTypeColumns) {
		t.Errorf("TableColumns of\n%s\n got  %q\n want %q", e.Defn, got, everyTypeColumns)
	}
	pk := findEntry(f.Archive, "CONSTRAINT", "module$everytype module$everytype_pkey")
	if pk == nil {
		t.Fatal("the dump has no CONSTRAINT module$everytype module$everytype_pkey")
	}
	schema, table, key, ok := pk.PrimaryKeyColumns()
	if !ok || schema != "public" || table != "module$everytype" || !reflect.DeepEqual(key, []string{"id"}) {
		t.Errorf("PrimaryKeyColumns = %q, %q, %q, %v; want public, module$everytype, [id], true", schema, table, key, ok)
	}
	if table, err := pk.OwningTable(); err != nil || table != "module$everytype" || pk.ConstraintName() != "module$everytype_pkey" {
		t.Errorf("OwningTable = %q, %v, ConstraintName = %q; want module$everytype, module$everytype_pkey", table, err, pk.ConstraintName())
	}
}

func TestTableColumns(t *testing.T) {
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
		{
			"reserved words, $ and non-ASCII names, literals with quotes",
			"CREATE TABLE public.\"a$b\" (\n    \"user\" text DEFAULT 'it''s'::text,\n    b$c integer,\n    \"ü\" numeric(28,8) DEFAULT 0 NOT NULL\n);\n",
			[]Column{{"user", "text"}, {"b$c", "integer"}, {"ü", "numeric(28,8)"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tableEntry(c.defn).TableColumns()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestTableColumnsRejects(t *testing.T) {
	for _, c := range []struct{ defn, want string }{
		{"", "does not start with CREATE"},
		{"CREATE VIEW public.v AS SELECT 1;", "not a CREATE TABLE statement"},
		{"CREATE TABLE public.child PARTITION OF public.parent\nFOR VALUES IN (1);\n", "no column list"},
		{"CREATE TABLE public.t OF public.mytype;", "no column list"},
		{"CREATE TABLE public.t (\n    a text,\n", "invalid column name"},
		{"CREATE TABLE public.t (\n    a text\n", "ends unexpectedly"},
		{"CREATE TABLE public.t (\n    a text DEFAULT 'unterminated\n);\n", "unterminated quote"},
		{"CREATE TABLE public.t (\n    a\n);\n", "has no type"},
		{"CREATE TABLE public.\"t (\n    a text\n);\n", "no valid table name"},
		{"CREATE TABLE a.b.c.d (\n    a text\n);\n", "no valid table name"},
		{"CREATE TABLE public.t (\n    a text CHECK ((a <> 'x'\n", "ends unexpectedly"},
		{"CREATE TABLE public.t (\n    CONSTRAINT c CHECK ((a > 0)\n", "ends inside its column list"},
	} {
		got, err := tableEntry(c.defn).TableColumns()
		if err == nil {
			t.Errorf("TableColumns(%q) = %q, want an error", c.defn, got)
			continue
		}
		checkBadInput(t, err, "TOC entry 5 (TABLE public.t): ")
		checkBadInput(t, err, c.want)
	}
	e := tableEntry("CREATE TABLE public.t (\n    a text\n);\n")
	e.Desc = "TABLE DATA"
	_, err := e.TableColumns()
	checkBadInput(t, err, "is not a TABLE entry")
}

func TestPrimaryKeyColumns(t *testing.T) {
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
		{"ALTER TABLE ONLY \"My Schema\".\"a\"\"b\" ADD CONSTRAINT \"a\"\"b_pkey\" PRIMARY KEY (\"user\", \"x\"\"y\");",
			"My Schema", `a"b`, []string{"user", `x"y`}},
		{"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_a_key UNIQUE (a);\n", "", "", nil},
		{"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_check CHECK ((a > 0));\n", "", "", nil},
		{"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (a,", "", "", nil},
		{"ALTER TABLE ONLY a.b.c.d\n    ADD CONSTRAINT t_pkey PRIMARY KEY (a);", "", "", nil},
		{"", "", "", nil},
	}
	for _, c := range cases {
		e := &Entry{Desc: "CONSTRAINT", Defn: c.defn}
		schema, table, key, ok := e.PrimaryKeyColumns()
		if ok != (c.key != nil) || schema != c.schema || table != c.table || !reflect.DeepEqual(key, c.key) {
			t.Errorf("PrimaryKeyColumns(%q) = %q, %q, %q, %v; want %q, %q, %q", c.defn, schema, table, key, ok, c.schema, c.table, c.key)
		}
	}
	e := &Entry{Desc: "INDEX", Defn: cases[0].defn}
	if schema, table, key, ok := e.PrimaryKeyColumns(); ok {
		t.Errorf("PrimaryKeyColumns of an INDEX entry = %q, %q, %q, true; want false", schema, table, key)
	}
}

func TestOwningTable(t *testing.T) {
	tests := []struct {
		desc, tag, defn string
		table, name     string // name is ConstraintName
		wantErr         string
	}{
		{desc: "INDEX", tag: "idx_myfirstmodule$order_user",
			defn:  "CREATE INDEX \"idx_myfirstmodule$order_user\" ON public.\"myfirstmodule$order\" USING btree (\"user\");\n",
			table: "myfirstmodule$order", name: "idx_myfirstmodule$order_user"},
		{desc: "INDEX", tag: "t_a_idx", defn: "CREATE UNIQUE INDEX t_a_idx ON public.t USING btree (a);", table: "t", name: "t_a_idx"},
		{desc: "INDEX", tag: "p_idx", defn: "CREATE INDEX p_idx ON ONLY public.p USING btree (a);", table: "p", name: "p_idx"},
		{desc: "INDEX", tag: "odd ON x", defn: "CREATE INDEX \"odd ON x\" ON \"my schema\".\"a\"\"b\" USING btree (a);", table: `a"b`, name: "odd ON x"},
		{desc: "INDEX", tag: "i", defn: "create index i on t using btree (a);", table: "t", name: "i"},
		{desc: "CONSTRAINT", tag: "myfirstmodule$order myfirstmodule$order_pkey",
			defn:  "ALTER TABLE ONLY public.\"myfirstmodule$order\"\n    ADD CONSTRAINT \"myfirstmodule$order_pkey\" PRIMARY KEY (id);\n",
			table: "myfirstmodule$order", name: "myfirstmodule$order_pkey"},
		{desc: "FK CONSTRAINT", tag: "myfirstmodule$order myfirstmodule$order_filedoc_fkey",
			defn:  "ALTER TABLE ONLY public.\"myfirstmodule$order\"\n    ADD CONSTRAINT \"myfirstmodule$order_filedoc_fkey\" FOREIGN KEY (filedoc) REFERENCES public.\"system$filedocument\"(id);\n",
			table: "myfirstmodule$order", name: "myfirstmodule$order_filedoc_fkey"},
		{desc: "FK CONSTRAINT", tag: "p p_fkey", defn: "ALTER TABLE public.p\n    ADD CONSTRAINT p_fkey FOREIGN KEY (a) REFERENCES public.q(id);\n", table: "p", name: "p_fkey"},
		{desc: "CONSTRAINT", tag: "only only_pkey", defn: "ALTER TABLE ONLY public.\"only\"\n    ADD CONSTRAINT only_pkey PRIMARY KEY (id);\n", table: "only", name: "only_pkey"},
		{desc: "CONSTRAINT", tag: "t t_pkey", defn: "SELECT 1;", name: "t t_pkey", wantErr: "does not start with ALTER TABLE"},
		{desc: "CONSTRAINT", tag: "t t_pkey", defn: "ALTER TABLE ONLY public.\"t\n", name: "t t_pkey", wantErr: "no valid table name"},
		{desc: "INDEX", tag: "i", defn: "CREATE TABLE t (a int);", name: "i", wantErr: "not a CREATE INDEX statement"},
		{desc: "INDEX", tag: "i", defn: "CREATE INDEX i USING btree (a);", name: "i", wantErr: "lacks ON"},
		{desc: "INDEX", tag: "i", defn: "CREATE INDEX \"\" ON t USING btree (a);", name: "i", wantErr: "no valid index name"},
		{desc: "INDEX", tag: "i", defn: "", name: "i", wantErr: "does not start with CREATE"},
		{desc: "TABLE", tag: "t t_pkey", defn: "CREATE TABLE t (a int);", name: "t t_pkey", wantErr: "is not an INDEX, CONSTRAINT or FK CONSTRAINT entry"},
	}
	for _, tt := range tests {
		t.Run(tt.desc+" "+tt.defn, func(t *testing.T) {
			e := &Entry{DumpID: 3, Desc: tt.desc, Namespace: "public", Tag: tt.tag, Defn: tt.defn}
			table, err := e.OwningTable()
			if tt.wantErr != "" {
				checkBadInput(t, err, "TOC entry 3 ("+tt.desc+" public."+tt.tag+"): ")
				checkBadInput(t, err, tt.wantErr)
			} else if err != nil || table != tt.table {
				t.Errorf("OwningTable = %q, %v; want %q", table, err, tt.table)
			}
			if got := e.ConstraintName(); got != tt.name {
				t.Errorf("ConstraintName = %q, want %q", got, tt.name)
			}
		})
	}
}

func TestUnqualifiedName(t *testing.T) {
	for _, c := range []struct{ qualified, want string }{
		{`public."myfirstmodule$order_id_mxseq"`, "myfirstmodule$order_id_mxseq"},
		{"public.x_mxseq", "x_mxseq"},
		{"x_mxseq", "x_mxseq"},
		{`"My Schema"."a""b.c"`, `a"b.c`},
		{`public."it's"`, "it's"},
		{"", ""},
		{`"unterminated`, `"unterminated`},
		{`public."unterminated`, "public"},
		{"public.", "public"},
	} {
		if got := UnqualifiedName(c.qualified); got != c.want {
			t.Errorf("UnqualifiedName(%q) = %q, want %q", c.qualified, got, c.want)
		}
	}
}

// checkEntrySQL reads the SQL of every entry of a real archive of
// mendixSchema that the archive's users parse.
func checkEntrySQL(t *testing.T, a *Archive) {
	t.Helper()
	tables := map[string]bool{}
	for i := range a.Entries {
		e := &a.Entries[i]
		if e.Desc != "TABLE" {
			continue
		}
		tables[e.Tag] = true
		cols, err := e.TableColumns()
		if err != nil {
			t.Errorf("TableColumns: %v", err)
			continue
		}
		data := findEntry(a, "TABLE DATA", e.Tag)
		if data == nil {
			t.Errorf("no TABLE DATA %s", e.Tag)
			continue
		}
		copyCols, err := data.CopyColumns()
		var names []string
		for _, c := range cols {
			names = append(names, c.Name)
		}
		if err != nil || !slices.Equal(names, copyCols) {
			t.Errorf("%s: TableColumns %q, CopyColumns %q, %v", e.Tag, cols, copyCols, err)
		}
	}
	if !tables["myfirstmodule$order"] || !tables["system$filedocument"] {
		t.Fatalf("tables %v: mendixSchema's are missing", tables)
	}
	owners := map[string]string{} // "desc name" to table
	for i := range a.Entries {
		e := &a.Entries[i]
		switch e.Desc {
		case "INDEX", "CONSTRAINT", "FK CONSTRAINT":
			table, err := e.OwningTable()
			if err != nil || !tables[table] {
				t.Errorf("OwningTable = %q, %v; want a table of the dump", table, err)
				continue
			}
			name := e.ConstraintName()
			if e.Desc != "INDEX" && e.Tag != table+" "+name {
				t.Errorf("%s: ConstraintName %q of table %q", e, name, table)
			}
			owners[e.Desc+" "+name] = table
		}
	}
	for key, want := range map[string]string{
		"INDEX idx_myfirstmodule$order_user":             "myfirstmodule$order",
		"CONSTRAINT myfirstmodule$order_pkey":            "myfirstmodule$order",
		"CONSTRAINT system$filedocument_pkey":            "system$filedocument",
		"FK CONSTRAINT myfirstmodule$order_filedoc_fkey": "myfirstmodule$order",
	} {
		if owners[key] != want {
			t.Errorf("%s belongs to %q, want %q", key, owners[key], want)
		}
	}
	schema, table, key, ok := findEntry(a, "CONSTRAINT", "myfirstmodule$order myfirstmodule$order_pkey").PrimaryKeyColumns()
	if !ok || schema != "public" || table != "myfirstmodule$order" || !slices.Equal(key, []string{"id"}) {
		t.Errorf("PrimaryKeyColumns = %q, %q, %q, %v; want public, myfirstmodule$order, [id], true", schema, table, key, ok)
	}
	for _, seq := range []string{"myfirstmodule$order_id_mxseq", "system$filedocument_id_mxseq"} {
		name, _, _, err := findEntry(a, "SEQUENCE SET", seq).SequenceValue()
		if err != nil || UnqualifiedName(name) != seq {
			t.Errorf("SequenceValue %q, %v: UnqualifiedName %q, want %q", name, err, UnqualifiedName(name), seq)
		}
	}
}

// TestEntrySQLOfTestdataArchives reads the SQL of the committed real
// archives, without a server.
func TestEntrySQLOfTestdataArchives(t *testing.T) {
	for _, name := range realTestdata {
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			checkEntrySQL(t, f.Archive)
		})
	}
}
