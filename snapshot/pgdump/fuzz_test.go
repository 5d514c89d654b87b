package pgdump

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
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
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, desc := range []string{"TABLE", "TABLE DATA", "SEQUENCE SET", "INDEX", "CONSTRAINT", "FK CONSTRAINT"} {
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
		}
	})
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
