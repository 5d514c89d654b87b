package pgcatalog

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// archiveOf makes an archive of entries, numbering them from 1.
func archiveOf(entries ...pgdump.Entry) *pgdump.Archive {
	for i := range entries {
		entries[i].DumpID = i + 1
		if entries[i].Namespace == "" && entries[i].Desc != "EXTENSION" && entries[i].Desc != "ENCODING" {
			entries[i].Namespace = "public"
		}
	}
	return &pgdump.Archive{Entries: entries}
}

func table(name, defn string) pgdump.Entry {
	return pgdump.Entry{Desc: "TABLE", Tag: name, Defn: defn}
}

var plainTable = table("t", "CREATE TABLE public.t (\n    id bigint NOT NULL,\n    \"user\" integer\n);\n")

func plainType(text, base string) Type {
	return Type{Text: text, Base: base, Length: -1, Precision: -1, Scale: -1, Kind: 'b'}
}

// TestFromArchiveOlderSpellings reads what pg_dump 10 to 13 write and a
// schema-only dump, without a server.
func TestFromArchiveOlderSpellings(t *testing.T) {
	a := archiveOf(
		pgdump.Entry{Desc: "ENCODING", Tag: "ENCODING", Defn: "SET client_encoding = 'UTF8';\n"},
		plainTable,
		table("p", "CREATE TABLE public.p (\n    id integer\n)\nPARTITION BY LIST (id);\n"),
		// pg_dump 10 and 11: PARTITION OF; 12 and 13: ATTACH PARTITION in the entry.
		table("p1", "CREATE TABLE public.p1 PARTITION OF public.p\nFOR VALUES IN (1);\n"),
		table("p2", "CREATE TABLE public.p2 (\n    id integer\n);\nALTER TABLE ONLY public.p ATTACH PARTITION public.p2 FOR VALUES IN (2);\n"),
		pgdump.Entry{Desc: "INDEX", Tag: "p2_id_idx", Defn: "CREATE INDEX p2_id_idx ON public.p2 USING btree (id);\n"},
		pgdump.Entry{Desc: "MATERIALIZED VIEW", Tag: "mv", Defn: "CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS x WITH NO DATA;\n"},
		pgdump.Entry{Desc: "INDEX", Tag: "mv_idx", Defn: "CREATE INDEX mv_idx ON public.mv USING btree (x);\n"},
		pgdump.Entry{Desc: "VIEW", Tag: "v", Defn: "CREATE VIEW public.v AS SELECT 1 AS x;\n"},
		pgdump.Entry{Desc: "DEFAULT", Tag: "v x", Defn: "ALTER TABLE ONLY public.v ALTER COLUMN x SET DEFAULT 1;\n"},
		pgdump.Entry{Desc: "SEQUENCE", Tag: "s", Defn: "CREATE SEQUENCE public.s\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n"},
		pgdump.Entry{Desc: "SEQUENCE OWNED BY", Tag: "s", Defn: "ALTER SEQUENCE public.s OWNED BY public.t.id;\n"},
		pgdump.Entry{Desc: "DEFAULT", Tag: "t id", Defn: "ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.s'::regclass);\n"},
		pgdump.Entry{Desc: "CONSTRAINT", Tag: "t t_pkey", Defn: "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n"},
		pgdump.Entry{Desc: "FK CONSTRAINT", Tag: "t t_user_fkey", Defn: "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_user_fkey FOREIGN KEY (\"user\") REFERENCES other.u(id) ON DELETE SET NULL;\n"},
		pgdump.Entry{Desc: "COMMENT", Tag: "TABLE t", Defn: "COMMENT ON TABLE public.t IS 'x';\n"},
		pgdump.Entry{Desc: "TABLE", Namespace: "other", Tag: "u", Defn: "CREATE TABLE other.u (\n    id integer\n) INHERITS (other.base);\n"},
	)
	got, err := FromArchive(a, "")
	if err != nil {
		t.Fatal(err)
	}
	want := &Schema{
		Name: "public",
		Tables: []*Table{
			{Name: "p", Columns: []Column{{Name: "id", Type: plainType("integer", "integer")}}},
			{Name: "t", Columns: []Column{
				{Name: "id", Type: plainType("bigint", "bigint"), NotNull: true, Default: "nextval('s'::regclass)"},
				{Name: "user", Type: plainType("integer", "integer")},
			}, PrimaryKey: &Constraint{Name: "t_pkey", Columns: []string{"id"}},
				ForeignKeys: []ForeignKey{{Name: "t_user_fkey", Columns: []string{"user"}, RefSchema: "other", RefTable: "u", RefColumns: []string{"id"},
					OnDelete: "SET NULL", OnUpdate: "NO ACTION"}}},
		},
		// No SEQUENCE SET (a schema-only dump): as CREATE SEQUENCE left it.
		Sequences: []*Sequence{{Name: "s", DataType: "bigint", Start: 1, Increment: 1, Min: 1, Max: 1<<63 - 1, LastValue: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", show(got.Tables), show(want.Tables))
		compareSchemas(t, got, want)
	}
}

func TestFromArchiveTypes(t *testing.T) {
	a := archiveOf(
		pgdump.Entry{Desc: "EXTENSION", Tag: "citext", Defn: "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;\n"},
		pgdump.Entry{Desc: "DOMAIN", Tag: "d", Defn: "CREATE DOMAIN public.d AS numeric(10,2)[];\n"},
		pgdump.Entry{Desc: "DOMAIN", Namespace: "other", Tag: "o", Defn: "CREATE DOMAIN other.o AS public.d;\n"},
		table("t", "CREATE TABLE public.t (\n    a public.citext,\n    b public.d,\n    c other.o,\n    d timestamp(0) with time zone,\n    e bit(3),\n"+
			"    f character varying,\n    g interval year to month,\n    h numeric(5)\n);\n"),
	)
	got, err := FromArchive(a, "public")
	if err != nil {
		t.Fatal(err)
	}
	want := []Column{
		{Name: "a", Type: plainType("citext", "citext")},
		{Name: "b", Type: Type{Text: "d", Base: "numeric[]", Length: -1, Precision: -1, Scale: -1, Kind: 'd'}},
		{Name: "c", Type: Type{Text: "other.o", Base: "d", Length: -1, Precision: -1, Scale: -1, Kind: 'd'}},
		{Name: "d", Type: Type{Text: "timestamp(0) with time zone", Base: "timestamp with time zone", Length: -1, Precision: 0, Scale: -1, Kind: 'b'}},
		{Name: "e", Type: Type{Text: "bit(3)", Base: "bit", Length: 3, Precision: -1, Scale: -1, Kind: 'b'}},
		{Name: "f", Type: plainType("character varying", "character varying")},
		{Name: "g", Type: plainType("interval year to month", "interval")},
		{Name: "h", Type: Type{Text: "numeric(5)", Base: "numeric", Length: -1, Precision: 5, Scale: 0, Kind: 'b'}},
	}
	if len(got.Tables) != 1 || !reflect.DeepEqual(got.Tables[0].Columns, want) {
		t.Errorf("columns:\n got %+v\nwant %+v", got.Tables[0].Columns, want)
	}
}

func TestFromArchiveRejects(t *testing.T) {
	seq := func(defn string) pgdump.Entry { return pgdump.Entry{Desc: "SEQUENCE", Tag: "s", Defn: defn} }
	tests := []struct {
		name    string
		entries []pgdump.Entry
		want    string
	}{
		{"unknown kind", []pgdump.Entry{plainTable, {Desc: "WORMHOLE", Tag: "w", Defn: "CREATE WORMHOLE w;"}},
			`TOC entry 2 (WORMHOLE public.w): unknown kind of entry "WORMHOLE"`},
		{"typed table", []pgdump.Entry{table("t", "CREATE TABLE public.t OF public.pair;")}, "TOC entry 1 (TABLE public.t): is a typed table"},
		{"inheritance", []pgdump.Entry{table("t", "CREATE TABLE public.t (\n    a integer\n)\nINHERITS (public.p);")}, "TOC entry 1 (TABLE public.t): inherits from"},
		{"inline key", []pgdump.Entry{table("t", "CREATE TABLE public.t (\n    a integer,\n    PRIMARY KEY (a)\n);")}, "constraint in its CREATE TABLE"},
		{"table twice", []pgdump.Entry{plainTable, plainTable}, "TOC entry 2 (TABLE public.t): defines table \"t\" a second time"},
		{"unreadable table", []pgdump.Entry{table("t", "CREATE TABLE public.t (\n    a integer NOT VALID\n);")}, "TOC entry 1 (TABLE public.t): column \"a\": NOT is not followed by NULL"},
		{"unknown type", []pgdump.Entry{table("t", "CREATE TABLE public.t (\n    a public.nope\n);")}, `TOC entry 1 (TABLE public.t): type "public.nope" is not defined in the dump`},
		{"unreadable type", []pgdump.Entry{table("t", "CREATE TABLE public.t (\n    a integer[\n);")}, `TOC entry 1 (TABLE public.t): type "integer[" cannot be read`},
		{"bad modifier", []pgdump.Entry{table("t", "CREATE TABLE public.t (\n    a numeric(x,1)\n);")}, `modifier "x" is not a number`},
		{"index of an unknown table", []pgdump.Entry{plainTable, {Desc: "INDEX", Tag: "i", Defn: "CREATE INDEX i ON public.nope USING btree (a);"}},
			"TOC entry 2 (INDEX public.i): belongs to public.nope, which the dump does not define"},
		{"unreadable index", []pgdump.Entry{plainTable, {Desc: "INDEX", Tag: "i", Defn: "CREATE INDEX i ON public.t (a);"}}, "TOC entry 2 (INDEX public.i): CREATE INDEX lacks USING"},
		{"constraint of an unknown table", []pgdump.Entry{plainTable, {Desc: "CONSTRAINT", Tag: "x k", Defn: "ALTER TABLE ONLY public.x ADD CONSTRAINT k UNIQUE (a);"}},
			"TOC entry 2 (CONSTRAINT public.x k): belongs to public.x"},
		{"second primary key", []pgdump.Entry{plainTable,
			{Desc: "CONSTRAINT", Tag: "t k", Defn: "ALTER TABLE ONLY public.t ADD CONSTRAINT k PRIMARY KEY (id);"},
			{Desc: "CONSTRAINT", Tag: "t k2", Defn: "ALTER TABLE ONLY public.t ADD CONSTRAINT k2 PRIMARY KEY (id);"}}, "TOC entry 3 (CONSTRAINT public.t k2): is a second primary key"},
		{"default of a missing column", []pgdump.Entry{plainTable, {Desc: "DEFAULT", Tag: "t x", Defn: "ALTER TABLE ONLY public.t ALTER COLUMN x SET DEFAULT 1;"}},
			`TOC entry 2 (DEFAULT public.t x): sets the default of column "x"`},
		{"value of an unknown sequence", []pgdump.Entry{plainTable, {Desc: "SEQUENCE SET", Tag: "s", Defn: "SELECT pg_catalog.setval('public.s', 1, true);"}},
			"TOC entry 2 (SEQUENCE SET public.s): sets a sequence the dump does not define"},
		{"identity of a missing column", []pgdump.Entry{plainTable, seq("ALTER TABLE public.t ALTER COLUMN x ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.s);")},
			`TOC entry 2 (SEQUENCE public.s): makes column "x" an identity`},
		{"identity of a text column", []pgdump.Entry{table("t", "CREATE TABLE public.t (\n    x text\n);"), seq("ALTER TABLE public.t ALTER COLUMN x ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.s);")},
			`TOC entry 2 (SEQUENCE public.s): sequence type "text" is not smallint, integer or bigint`},
		{"identity of an unknown table", []pgdump.Entry{plainTable, seq("ALTER TABLE public.x ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.s);")},
			"TOC entry 2 (SEQUENCE public.s): belongs to public.x"},
		{"sequence twice", []pgdump.Entry{plainTable, seq("CREATE SEQUENCE public.s;"), seq("CREATE SEQUENCE public.s;")}, "TOC entry 3 (SEQUENCE public.s): defines sequence \"s\" a second time"},
		{"unreadable domain", []pgdump.Entry{{Desc: "DOMAIN", Tag: "d", Defn: "CREATE DOMAIN public.d AS;"}}, "TOC entry 1 (DOMAIN public.d): CREATE DOMAIN has no valid type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromArchive(archiveOf(tt.entries...), "")
			if err == nil {
				t.Fatalf("FromArchive = %+v, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.want) || exitcode.Of(err) != exitcode.BadInput {
				t.Errorf("error %q (exit code %d), want %q and BadInput", err, exitcode.Of(err), tt.want)
			}
		})
	}
}

// TestFromArchiveDefaultSchema: schema "" is public when the dump has
// tables there, else the schema of its first table.
func TestFromArchiveDefaultSchema(t *testing.T) {
	other := pgdump.Entry{Desc: "TABLE", Namespace: "mx", Tag: "u", Defn: "CREATE TABLE mx.u (\n    id integer\n);\n"}
	for _, c := range []struct {
		entries    []pgdump.Entry
		want       string
		wantTables int
	}{
		{[]pgdump.Entry{other}, "mx", 1},
		{[]pgdump.Entry{other, plainTable}, "public", 1},
		{nil, "public", 0},
	} {
		got, err := FromArchive(archiveOf(c.entries...), "")
		if err != nil || got.Name != c.want || len(got.Tables) != c.wantTables {
			t.Errorf("FromArchive(%d entries) = %+v, %v; want schema %s", len(c.entries), got, err, c.want)
		}
	}
}
