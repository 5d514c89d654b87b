package postgres

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// rewriteArchive writes a copy of the archive at path as archive version
// 1.minor (14 to 16), after letting edit change its entries, and returns
// the new file. Data blocks are copied as they are; every data offset is
// written as "not set" (as pg_dump does writing to a pipe), so the blocks
// need not stay where they were. It is how the tests get a 1.16 archive
// (pg_dump 17) and archives with entries no pg_dump wrote.
func rewriteArchive(t *testing.T, path string, minor int, edit func(es []pgdump.Entry) []pgdump.Entry) string {
	return recompressArchive(t, path, minor, "", edit)
}

// recompressArchive is rewriteArchive that also compresses the table data
// anew with comp (when not ""), one compressed stream per data block as
// pg_dump writes them, for the compressions the local pg_dump lacks.
func recompressArchive(t *testing.T, path string, minor int, comp pgdump.Compression, edit func(es []pgdump.Entry) []pgdump.Entry) string {
	t.Helper()
	af, err := pgdump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	h := af.Header
	entries := append([]pgdump.Entry(nil), af.Entries...)
	if edit != nil {
		entries = edit(entries)
	}
	w := &archiveWriter{intSize: h.IntSize, offSize: h.OffSize}
	w.WriteString("PGDMP")
	w.Write([]byte{1, byte(minor), 0, byte(h.IntSize), byte(h.OffSize), pgdump.FormatCustom})
	if comp == "" {
		comp = h.Compression
	}
	algo := map[pgdump.Compression]byte{pgdump.CompressionNone: 0, pgdump.CompressionGzip: 1, pgdump.CompressionLZ4: 2, pgdump.CompressionZstd: 3}[comp]
	if minor >= 15 {
		w.WriteByte(algo)
	} else {
		if algo > 1 {
			t.Fatalf("archive 1.%d cannot hold %s compression", minor, comp)
		}
		w.int(map[byte]int64{0: 0, 1: -1}[algo])
	}
	c := h.Created
	for _, v := range []int{c.Second(), c.Minute(), c.Hour(), c.Day(), int(c.Month()) - 1, c.Year() - 1900, 0} {
		w.int(int64(v))
	}
	w.str(h.DatabaseName)
	w.str(h.ServerVersion)
	w.str(h.DumpVersion)
	w.int(int64(len(entries)))
	for _, e := range entries {
		w.int(int64(e.DumpID))
		w.int(map[bool]int64{true: 1}[e.HadDumper])
		for _, s := range []string{e.TableOID, e.OID, e.Tag, e.Desc} {
			w.str(s)
		}
		w.int(int64(e.Section))
		for _, s := range []string{e.Defn, e.DropStmt, e.CopyStmt, e.Namespace, e.Tablespace} {
			w.str(s)
		}
		if minor >= 14 {
			w.str(e.TableAM)
		}
		if minor >= 16 {
			kind := int64(e.RelKind)
			if kind == 0 && e.Desc == "TABLE" {
				kind = 'r'
			}
			w.int(kind)
		}
		w.str(e.Owner)
		w.str("false")
		for _, d := range e.Dependencies {
			w.str(strconv.Itoa(d))
		}
		w.int(-1)       // end of dependencies
		flag := byte(3) // no data
		if e.HadDumper {
			flag = 1 // data, position not set
		}
		w.WriteByte(flag)
		w.Write(make([]byte, h.OffSize))
	}
	if comp != h.Compression {
		for i := range af.Entries {
			e := &af.Entries[i]
			switch {
			case e.Desc == "TABLE DATA":
				w.dataBlock(t, af, e, comp)
			case e.HadDumper:
				t.Fatalf("cannot recompress %s", e)
			}
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Seek(af.DataStart(), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, f); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "rewritten-1."+strconv.Itoa(minor)+".backup")
	if err := os.WriteFile(out, w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// archiveWriter writes the archive's integers and strings (WriteInt,
// WriteStr).
type archiveWriter struct {
	bytes.Buffer
	intSize, offSize int
}

func (w *archiveWriter) int(v int64) {
	sign := byte(0)
	if v < 0 {
		sign, v = 1, -v
	}
	w.WriteByte(sign)
	for range w.intSize {
		w.WriteByte(byte(v))
		v >>= 8
	}
}

func (w *archiveWriter) str(s string) {
	w.int(int64(len(s)))
	w.WriteString(s)
}

// dataBlock writes e's COPY text as a data block compressed with comp.
func (w *archiveWriter) dataBlock(t *testing.T, af *pgdump.ArchiveFile, e *pgdump.Entry, comp pgdump.Compression) {
	t.Helper()
	r, err := af.OpenData(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var packed bytes.Buffer
	var zw io.WriteCloser
	switch comp {
	case pgdump.CompressionNone:
		zw = nopCloser{&packed}
	case pgdump.CompressionGzip:
		zw = zlib.NewWriter(&packed)
	case pgdump.CompressionLZ4:
		zw = lz4.NewWriter(&packed)
	case pgdump.CompressionZstd:
		if zw, err = zstd.NewWriter(&packed); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.Copy(zw, r); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	w.WriteByte(1) // a data block
	w.int(int64(e.DumpID))
	for b := packed.Bytes(); len(b) > 0; {
		n := min(len(b), 4096)
		w.int(int64(n))
		w.Write(b[:n])
		b = b[n:]
	}
	w.int(0)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
