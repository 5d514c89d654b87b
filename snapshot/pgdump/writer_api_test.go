package pgdump

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

// writerEntries is a small Mendix-like table of contents: two tables with
// data, a sequence and its value, a key.
func writerEntries() []Entry {
	table := func(id int, name string) Entry {
		return Entry{DumpID: id, TableOID: "1259", OID: "0", Tag: name, Desc: "TABLE", Section: SectionPreData, Namespace: "public", TableAM: "heap",
			Defn: "CREATE TABLE public.\"" + name + "\" (\n    id bigint NOT NULL,\n    \"order\" text\n);\n", DropStmt: "DROP TABLE public.\"" + name + "\";\n"}
	}
	data := func(id, table int, name string) Entry {
		return Entry{DumpID: id, HadDumper: true, TableOID: "0", OID: "0", Tag: name, Desc: "TABLE DATA", Section: SectionData, Namespace: "public",
			CopyStmt: "COPY public.\"" + name + "\" (id, \"order\") FROM stdin;\n", Dependencies: []int{table}}
	}
	return []Entry{
		{DumpID: 1, TableOID: "0", OID: "0", Tag: "ENCODING", Desc: "ENCODING", Section: SectionPreData, Defn: "SET client_encoding = 'UTF8';\n"},
		table(2, "a$one"), table(3, "b$two"),
		{DumpID: 4, TableOID: "1259", OID: "0", Tag: "s$mxseq", Desc: "SEQUENCE", Section: SectionPreData, Namespace: "public",
			Defn: "CREATE SEQUENCE public.\"s$mxseq\"\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n"},
		data(5, 2, "a$one"), data(6, 3, "b$two"),
		{DumpID: 7, TableOID: "0", OID: "0", Tag: "s$mxseq", Desc: "SEQUENCE SET", Section: SectionData, Namespace: "public",
			Defn: "SELECT pg_catalog.setval('public.\"s$mxseq\"', 42, true);\n", Dependencies: []int{4}},
		{DumpID: 8, TableOID: "2606", OID: "0", Tag: "a$one a$one_pkey", Desc: "CONSTRAINT", Section: SectionPostData, Namespace: "public",
			Defn: "ALTER TABLE ONLY public.\"a$one\"\n    ADD CONSTRAINT \"a$one_pkey\" PRIMARY KEY (id);\n", Dependencies: []int{2}},
	}
}

var writerRows = map[int]string{
	5: "1\tx\\ty\n2\t\\N\n" + CopyTrailer,
	6: strings.Repeat("7\tsame row\n", 20000) + CopyTrailer,
}

// writeArchive writes writerEntries, the first table's block encoded apart
// and appended (as a parallel export does), after the second table's
// unless inOrder.
func writeArchive(t *testing.T, out io.Writer, comp Compression, minor int, inOrder bool) {
	t.Helper()
	w, err := NewWriter(out, writerEntries(), WriterOptions{VersionMinor: minor, Compression: comp, DatabaseName: "db", ServerVersion: "15.4", DumpVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	second := func() {
		dw, err := w.Data(6)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, dw, []byte(writerRows[6]))
		mustClose(t, dw)
	}
	if !inOrder {
		second()
	}
	var block bytes.Buffer
	enc, err := NewBlockEncoder(&block, 5, comp, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, enc, []byte(writerRows[5]))
	mustClose(t, enc)
	if err := w.AppendBlock(5, &block); err != nil {
		t.Fatal(err)
	}
	if inOrder {
		second()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		comp  Compression
		minor int
	}{{CompressionGzip, 14}, {CompressionNone, 12}, {CompressionZstd, 16}, {CompressionLZ4, 15}} {
		t.Run(string(tc.comp), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db.backup")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			writeArchive(t, f, tc.comp, tc.minor, false)
			f.Close()
			a, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.Header.Compression != tc.comp || a.Header.VersionMinor != tc.minor || len(a.Entries) != len(writerEntries()) {
				t.Fatalf("header %+v, %d entries", a.Header, len(a.Entries))
			}
			for id, want := range writerRows {
				e, _ := a.Lookup(id)
				if !e.HasDataOffset {
					t.Errorf("%s: no data offset in a seekable archive", e)
				}
				r, err := a.OpenData(context.Background(), e)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				r.Close()
				if err != nil || string(got) != want {
					t.Errorf("%s: %d bytes, %v; want %d", e, len(got), err, len(want))
				}
			}
			for i, e := range writerEntries() {
				got := a.Entries[i]
				if got.Tag != e.Tag || got.Desc != e.Desc || got.Defn != e.Defn || got.CopyStmt != e.CopyStmt || len(got.Dependencies) != len(e.Dependencies) {
					t.Errorf("entry %d read back as %+v", e.DumpID, got)
				}
			}
		})
	}
}

func TestWriterToAPipe(t *testing.T) {
	var buf bytes.Buffer
	writeArchive(t, struct{ io.Writer }{&buf}, CompressionGzip, 14, false)
	a, err := ReadTOC(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range a.Entries {
		if e.HasDataOffset {
			t.Errorf("%s has a data offset though the output could not seek", &e)
		}
	}
	counts, err := a.CountAllRows(context.Background(), bytes.NewReader(buf.Bytes()[a.DataStart():]))
	if err != nil || counts[5] != 2 || counts[6] != 20000 {
		t.Fatalf("counts %v, %v", counts, err)
	}

	// The real pg_restore reads it from a pipe when the blocks come in
	// TOC order (it cannot go back for an earlier block).
	bin, _, err := pgserver.FindBinDir()
	if err != nil {
		t.Skipf("no pg_restore: %v", err)
	}
	buf.Reset()
	writeArchive(t, struct{ io.Writer }{&buf}, CompressionGzip, 14, true)
	cmd := exec.Command(filepath.Join(bin, "pg_restore"), "-f", "-")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	for _, want := range []string{"COPY public.\"a$one\" (id, \"order\") FROM stdin;\n1\tx\\ty\n2\t\\N\n\\.", "setval('public.\"s$mxseq\"', 42, true)", "ADD CONSTRAINT \"a$one_pkey\" PRIMARY KEY (id)"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("pg_restore output lacks %q:\n%s", want, out[:min(len(out), 3000)])
		}
	}
	if n := bytes.Count(out, []byte("7\tsame row\n")); n != 20000 {
		t.Errorf("pg_restore wrote %d rows of b$two, want 20000", n)
	}
}

func TestWriterRefusals(t *testing.T) {
	dup := writerEntries()
	dup[1].DumpID = 1
	badDep := writerEntries()
	badDep[4].Dependencies = []int{99}
	for name, tc := range map[string]struct {
		entries []Entry
		opts    WriterOptions
		want    string
	}{
		"duplicate ID":       {dup, WriterOptions{}, "dump ID 1 appears twice"},
		"missing dependency": {badDep, WriterOptions{}, "depends on dump ID 99"},
		"lz4 in 1.14":        {writerEntries(), WriterOptions{Compression: CompressionLZ4}, "cannot record lz4"},
		"version 1.17":       {writerEntries(), WriterOptions{VersionMinor: 17}, "cannot write archive version 1.17"},
	} {
		if _, err := NewWriter(io.Discard, tc.entries, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	w, err := NewWriter(io.Discard, writerEntries(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   int
		want string
	}{{99, "no TOC entry has dump ID 99"}, {7, "has no data block"}} {
		if err := w.AppendBlock(tc.id, bytes.NewReader(nil)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("block for %d: %v, want %q", tc.id, err, tc.want)
		}
	}
	if err := w.AppendBlock(5, bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	if err := w.AppendBlock(5, bytes.NewReader(nil)); err == nil || !strings.Contains(err.Error(), "already written") {
		t.Errorf("second block: %v", err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "TOC entry 6 (TABLE DATA public.b$two): no data block was written") {
		t.Errorf("Close with a block missing: %v", err)
	}
}

// FuzzWriterRoundTrip: whatever the writer writes, the reader reads back
// unchanged: the entry's strings and the block's bytes, in every
// compression, to a file or a pipe.
func FuzzWriterRoundTrip(f *testing.F) {
	f.Add([]byte("1\tx\\ty\n"), "myfirstmodule$order", uint8(0))
	f.Add([]byte{}, "", uint8(5))
	f.Add([]byte(strings.Repeat("7\tsame\n", 3000)), "a\"b", uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, tag string, mode uint8) {
		comps := []Compression{CompressionNone, CompressionGzip, CompressionLZ4, CompressionZstd}
		comp := comps[int(mode)%len(comps)]
		entries := []Entry{
			{DumpID: 1, TableOID: "1259", OID: "0", Tag: tag, Desc: "TABLE", Section: SectionPreData, Defn: tag},
			{DumpID: 2, HadDumper: true, TableOID: "0", OID: "0", Tag: tag, Desc: "TABLE DATA", Section: SectionData, CopyStmt: tag, Dependencies: []int{1}},
		}
		var plain bytes.Buffer
		var seekable seekBuffer
		var out io.Writer = &seekable
		if mode&4 != 0 {
			out = struct{ io.Writer }{&plain}
		}
		w, err := NewWriter(out, entries, WriterOptions{VersionMinor: 16, Compression: comp, ChunkSize: 1 + int(mode)})
		if err != nil {
			t.Fatal(err)
		}
		dw, err := w.Data(2)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, dw, data)
		mustClose(t, dw)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		raw := seekable.b
		if mode&4 != 0 {
			raw = plain.Bytes()
		}
		a, err := ReadTOC(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Entries) != 2 || a.Entries[0].Tag != tag || a.Entries[0].Defn != tag || a.Entries[1].CopyStmt != tag {
			t.Fatalf("entries read back as %+v", a.Entries)
		}
		var got []byte
		err = a.ScanData(context.Background(), bytes.NewReader(raw[a.DataStart():]), func(e *Entry, r io.Reader) error {
			got, err = io.ReadAll(r)
			return err
		})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("data read back: %d bytes, %v; wrote %d", len(got), err, len(data))
		}
	})
}
