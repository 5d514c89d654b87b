package pgdump

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzReadTOC feeds whole archives to ReadTOC and, when the TOC reads,
// counts every row: nothing may panic or allocate without bound.
func FuzzReadTOC(f *testing.F) {
	for _, ta := range []*testArchive{
		{minor: 12, compression: CompressionNone, entries: smallEntries()},
		{minor: 16, compression: CompressionLZ4, noOffsets: true, entries: smallEntries()},
	} {
		f.Add(ta.bytes(f))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := bytes.NewReader(raw)
		a, err := ReadTOC(r)
		if err != nil {
			return
		}
		_ = a.Fingerprint()
		for i := range a.Entries {
			_, _ = a.Entries[i].CopyColumns()
			_, _, _, _ = a.Entries[i].SequenceValue()
			_, _ = a.Entries[i].TableColumns()
			_, _, _, _ = a.Entries[i].PrimaryKeyColumns()
			_, _ = a.Entries[i].OwningTable()
			_ = a.Entries[i].ConstraintName()
			_, _ = a.Entries[i].TableDefinition()
			_, _ = a.Entries[i].ConstraintDefinition()
			_, _ = a.Entries[i].IndexDefinition()
			_, _ = a.Entries[i].SequenceDefinition()
			_, _ = a.Entries[i].DefaultDefinition()
			_, _ = a.Entries[i].TypeDefinition()
		}
		_, _ = a.CountAllRows(context.Background(), r)
	})
}

// FuzzEntrySQL feeds any text to the readers of the SQL in TOC entries,
// as each kind of entry that has one: nothing may panic, and what reads
// must be consistent.
func FuzzEntrySQL(f *testing.F) {
	for _, s := range []string{
		"COPY public.\"x$y\" (id, \"order\", \"a\"\"b\") FROM stdin;\n",
		"SELECT pg_catalog.setval(E'public.\"back\\\\slash\"', -42, true);",
		"CREATE TABLE public.t (\n    a character varying(10) DEFAULT 'a, b)'::character varying,\n    b text DEFAULT E'it\\'s, )',\n    c numeric(10,2) CONSTRAINT c_check CHECK ((c > (0)::numeric)),\n    CONSTRAINT t_check CHECK ((a <> ','::text))\n);\n",
		"CREATE UNLOGGED TABLE \"a\"\"b\" (\n    \"CONSTRAINT\" timestamp(3) without time zone GENERATED ALWAYS AS ((id * 2)) STORED\n);",
		"ALTER TABLE ONLY public.\"x$y\"\n    ADD CONSTRAINT \"x$y_pkey\" PRIMARY KEY (id, \"user\");\n",
		"CREATE UNIQUE INDEX \"i\" ON ONLY public.\"x$y\" USING btree (a);",
		"CREATE INDEX i ON public.t USING btree (created DESC, lower((name)::text) NULLS FIRST, n text_pattern_ops) INCLUDE (x) WHERE (a = 'x'::public.mood);",
		"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT fk FOREIGN KEY (a, b) REFERENCES public.u(x, y) MATCH FULL ON UPDATE CASCADE ON DELETE SET NULL (b) DEFERRABLE NOT VALID;\n",
		"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT u UNIQUE NULLS NOT DISTINCT (a) INCLUDE (b) WITH (fillfactor='70');\n",
		"CREATE SEQUENCE public.s\n    AS smallint\n    START WITH -1\n    INCREMENT BY -2\n    NO MINVALUE\n    MAXVALUE 5\n    CACHE 1\n    CYCLE;\n",
		"ALTER TABLE public.t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (\n    SEQUENCE NAME public.t_id_seq\n    START WITH 1\n    NO MAXVALUE\n);\n",
		"ALTER TABLE ONLY public.t ALTER COLUMN c SET DEFAULT nextval('public.\"s\"'::regclass);\n",
		"CREATE DOMAIN public.\"d$d\" AS numeric(10,2)[] NOT NULL;",
		"CREATE TYPE public.r AS RANGE (\n    subtype = integer,\n    multirange_type_name = public.rm\n);",
		"CREATE TABLE public.p1 (\n    id integer\n);\nALTER TABLE ONLY public.p ATTACH PARTITION public.p1 FOR VALUES IN (1);\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = UnqualifyNames(s, "public")
		if !strings.Contains(s, "public") && UnqualifyNames(s, "public") != s {
			t.Errorf("UnqualifyNames(%q) changed a text without the schema's name", s)
		}
		if tn, ok := ParseTypeName(s); ok && (tn.Name == "" || tn.Unmodified() == "") {
			t.Errorf("ParseTypeName(%q) = %+v", s, tn)
		}
		for _, desc := range []string{"TABLE", "TABLE DATA", "SEQUENCE", "SEQUENCE SET", "INDEX", "CONSTRAINT", "FK CONSTRAINT",
			"CHECK CONSTRAINT", "DEFAULT", "TYPE", "DOMAIN"} {
			e := &Entry{Desc: desc, Namespace: "public", Tag: "t c", Defn: s, CopyStmt: s}
			_, _ = e.CopyColumns()
			if name, _, _, err := e.SequenceValue(); err == nil {
				_ = UnqualifiedName(name)
			}
			_ = UnqualifiedName(s)
			if cols, err := e.TableColumns(); err == nil && cols == nil {
				t.Errorf("TableColumns(%q) = nil, no error", s)
			}
			if _, table, key, ok := e.PrimaryKeyColumns(); ok && (table == "" || len(key) == 0) {
				t.Errorf("PrimaryKeyColumns(%q) = %q, %q, true", s, table, key)
			}
			_, _ = e.OwningTable()
			_ = e.ConstraintName()
			checkDefinitions(t, e)
		}
	})
}

// checkDefinitions checks that what the definition readers accept is
// consistent.
func checkDefinitions(t *testing.T, e *Entry) {
	if def, err := e.TableDefinition(); err == nil {
		cols, err := e.TableColumns()
		if def.hasColumnList != (err == nil) || (err == nil && len(cols) != len(def.Columns)) {
			t.Errorf("TableColumns(%q) = %q, %v; TableDefinition %+v", e.Defn, cols, err, def)
		}
		for _, c := range def.Columns {
			if c.Name == "" || c.Type == "" || (c.Generated != "" && c.Default == "") {
				t.Errorf("TableDefinition(%q): column %+v", e.Defn, c)
			}
		}
	}
	if c, err := e.ConstraintDefinition(); err == nil {
		if c.Table == "" || c.Name == "" || c.Definition == "" || ((c.Kind == 'p' || c.Kind == 'u' || c.Kind == 'f') && len(c.Columns) == 0) ||
			(c.Kind == 'f' && len(c.RefColumns) != len(c.Columns)) {
			t.Errorf("ConstraintDefinition(%q) = %+v", e.Defn, c)
		}
		if _, _, key, ok := e.PrimaryKeyColumns(); ok != (c.Kind == 'p' && e.Desc == "CONSTRAINT") || (ok && !slices.Equal(key, c.Columns)) {
			t.Errorf("PrimaryKeyColumns(%q) = %q, %v; ConstraintDefinition %+v", e.Defn, key, ok, c)
		}
	}
	if d, err := e.IndexDefinition(); err == nil {
		if d.Name == "" || d.Table == "" || len(d.Columns) == 0 || !strings.HasPrefix(d.StatementTail(), "USING") ||
			!strings.HasSuffix(d.Statement, d.StatementTail()) {
			t.Errorf("IndexDefinition(%q) = %+v", e.Defn, d)
		}
	}
	if s, err := e.SequenceDefinition(); err == nil {
		if s.Name == "" || s.Increment == 0 || (s.DataType != "" && (s.Min >= s.Max || s.Start < s.Min || s.Start > s.Max)) ||
			(s.DataType == "") != (s.Identity != "") {
			t.Errorf("SequenceDefinition(%q) = %+v", e.Defn, s)
		}
		if s.Identity != "" {
			for _, typ := range []string{"smallint", "integer", "bigint"} {
				if err := s.SetDataType(typ); err == nil && (s.Min >= s.Max || s.Start < s.Min || s.Start > s.Max) {
					t.Errorf("SequenceDefinition(%q) as %s = %+v", e.Defn, typ, s)
				}
			}
		}
	}
	if d, err := e.DefaultDefinition(); err == nil && (d.Table == "" || d.Column == "" || d.Expr == "") {
		t.Errorf("DefaultDefinition(%q) = %+v", e.Defn, d)
	}
	if d, err := e.TypeDefinition(); err == nil && (d.Name == "" || (d.Kind == 'd') != (d.BaseType != "") || (d.Kind == 'r') != (d.Multirange != "")) {
		t.Errorf("TypeDefinition(%q) = %+v", e.Defn, d)
	}
}

// smallEntries are sampleEntries without the 5000-row table, so that
// each fuzz run is quick.
func smallEntries() []testEntry { return sampleEntries()[:6] }

// scanDataSeeds returns the data sections of the archives whose TOCs
// FuzzScanData uses, indexed like scanDataTOCs.
func scanDataSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, raw := range scanDataArchives(t) {
		a, err := ReadTOC(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, raw[a.DataStart():])
	}
	return seeds
}

// scanDataArchives are a real gzip archive, a real uncompressed one, and
// written lz4 and zstd ones.
func scanDataArchives(t testing.TB) [][]byte {
	var out [][]byte
	for _, name := range realTestdata {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	out = append(out,
		(&testArchive{minor: 16, compression: CompressionLZ4, entries: smallEntries()}).bytes(t),
		(&testArchive{minor: 15, compression: CompressionZstd, entries: smallEntries()}).bytes(t))
	return out
}

// FuzzScanData keeps a valid header and TOC and fuzzes the data blocks
// after it, which is where most of a real archive's bytes are. Besides
// not panicking, CountRows and CopyReader must agree on every entry's
// row count whenever both succeed.
func FuzzScanData(f *testing.F) {
	archives := scanDataArchives(f)
	tocs := make([][]byte, len(archives))
	for i, raw := range archives {
		a, err := ReadTOC(bytes.NewReader(raw))
		if err != nil {
			f.Fatal(err)
		}
		tocs[i] = raw[:a.DataStart()]
		f.Add(byte(i), raw[a.DataStart():])
	}
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		toc := tocs[int(which)%len(tocs)]
		r := bytes.NewReader(append(append([]byte{}, toc...), data...))
		a, err := ReadTOC(r)
		if err != nil {
			t.Fatalf("the fixed TOC does not read: %v", err)
		}
		_ = a.ScanData(context.Background(), r, func(e *Entry, data io.Reader) error {
			// Decompressed data is bounded for the comparison; a
			// decompression bomb still only costs this much.
			var copyText bytes.Buffer
			if _, err := io.Copy(&copyText, io.LimitReader(data, 8<<20)); err != nil {
				return err
			}
			counted, countErr := CountRows(context.Background(), bytes.NewReader(copyText.Bytes()))
			parsed, parseErr := parsedRows(copyText.Bytes())
			if countErr == nil && parseErr == nil && counted != parsed {
				t.Errorf("%s: CountRows %d, CopyReader %d rows of %q", e, counted, parsed, copyText.Bytes())
			}
			return nil
		})
	})
}

func parsedRows(text []byte) (int64, error) {
	cr := NewCopyReader(bytes.NewReader(text))
	var n int64
	for {
		_, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
