package pgdump

import (
	"reflect"
	"testing"
)

func TestCopyColumns(t *testing.T) {
	tests := []struct {
		stmt    string
		want    []string
		wantErr string
	}{
		{stmt: "COPY public.\"myfirstmodule$order\" (id, \"order\", \"user\", amount) FROM stdin;\n", want: []string{"id", "order", "user", "amount"}},
		{stmt: "COPY public.empty_t  FROM stdin;\n", want: []string{}},
		{stmt: "COPY \"My Schema\".\"t\" (\"a \"\"quoted\"\" name\", \"tab\there\", b$c) FROM stdin;", want: []string{`a "quoted" name`, "tab\there", "b$c"}},
		{stmt: "copy public.x (\"ü\") from stdin;", want: []string{"ü"}},
		{stmt: "", wantErr: "has no COPY statement"},
		{stmt: "INSERT INTO x VALUES (1);", wantErr: "does not start with COPY"},
		{stmt: "COPY public.x (a, b FROM stdin;", wantErr: "column list is not closed"},
		{stmt: "COPY public.x (a, \"b) FROM stdin;", wantErr: "invalid column name"},
		{stmt: "COPY public.x (a, \"\") FROM stdin;", wantErr: "invalid column name"},
		{stmt: "COPY (a) FROM stdin;", wantErr: "no valid table name"},
		{stmt: "COPY public.x (a) TO stdout;", wantErr: "lacks FROM"},
	}
	for _, tt := range tests {
		t.Run(tt.stmt, func(t *testing.T) {
			e := &Entry{DumpID: 7, Desc: "TABLE DATA", Namespace: "public", Tag: "x", CopyStmt: tt.stmt}
			got, err := e.CopyColumns()
			if tt.wantErr != "" {
				checkBadInput(t, err, "TOC entry 7 (TABLE DATA public.x): ")
				checkBadInput(t, err, tt.wantErr)
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CopyColumns = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSequenceValue(t *testing.T) {
	tests := []struct {
		desc, defn string
		name       string
		value      int64
		called     bool
		wantErr    string
	}{
		{desc: "SEQUENCE SET", defn: "SELECT pg_catalog.setval('public.\"myfirstmodule$order_id_mxseq\"', 42, true);\n",
			name: `public."myfirstmodule$order_id_mxseq"`, value: 42, called: true},
		{desc: "SEQUENCE SET", defn: "SELECT pg_catalog.setval('public.x_mxseq', 1, false);\n", name: "public.x_mxseq", value: 1},
		{desc: "SEQUENCE SET", defn: "SELECT pg_catalog.setval('public.\"it''s\"', -9223372036854775808, true);", name: `public."it's"`,
			value: -9223372036854775808, called: true},
		{desc: "SEQUENCE SET", defn: "SELECT pg_catalog.setval(E'public.\"back\\\\slash\"', 9223372036854775807, false);",
			name: `public."back\slash"`, value: 9223372036854775807},
		{desc: "SEQUENCE", defn: "CREATE SEQUENCE public.x;", wantErr: "is not a SEQUENCE SET entry"},
		{desc: "SEQUENCE SET", defn: "SELECT pg_catalog.setval('public.x', 9223372036854775808, true);", wantErr: "not a 64-bit integer"},
		{desc: "SEQUENCE SET", defn: "SELECT pg_catalog.setval('public.x, 1, true);", wantErr: "not a string literal"},
		{desc: "SEQUENCE SET", defn: "SELECT pg_catalog.setval('public.x', 1, maybe);", wantErr: "neither true nor false"},
		{desc: "SEQUENCE SET", defn: "SELECT pg_catalog.setval('public.x', 1, true;", wantErr: "lacks its )"},
		{desc: "SEQUENCE SET", defn: "SELECT setval('public.x', 1, true);", wantErr: "does not call pg_catalog.setval"},
	}
	for _, tt := range tests {
		t.Run(tt.defn, func(t *testing.T) {
			e := &Entry{DumpID: 9, Desc: tt.desc, Namespace: "public", Tag: "x", Defn: tt.defn}
			name, value, called, err := e.SequenceValue()
			if tt.wantErr != "" {
				checkBadInput(t, err, tt.wantErr)
				return
			}
			if err != nil || name != tt.name || value != tt.value || called != tt.called {
				t.Errorf("SequenceValue = %q, %d, %v, %v; want %q, %d, %v", name, value, called, err, tt.name, tt.value, tt.called)
			}
		})
	}
}
