package pgdump

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// testArchive writes custom-format archives the way pg_dump does
// (WriteHead, WriteToc, _StartData/_WriteData/_EndData), for the versions
// and compressions that the local pg_dump cannot produce.
type testArchive struct {
	minor       int // archive version 1.minor
	format      byte
	compression Compression
	// algorithm, when not nil, is written as the 1.15+ algorithm byte
	// instead of compression's.
	algorithm *byte
	// noOffsets writes every data offset as "not set", like pg_dump
	// writing to a pipe.
	noOffsets bool
	chunkSize int // bytes of COPY text per compressed write (default 4096)
	entries   []testEntry
}

type testEntry struct {
	Entry
	data  []byte            // TABLE DATA: COPY text
	blobs map[int64][]byte  // BLOBS: large objects by OID
	order []int64           // BLOBS: OIDs in writing order
	raw   func(*testWriter) // writes a hand-made block instead
}

// testTable returns a TABLE and its TABLE DATA entry holding copy.
func testTable(id int, name, copyStmt string, copy []byte) []testEntry {
	return []testEntry{
		{Entry: Entry{DumpID: id, TableOID: "1259", OID: strconv.Itoa(16000 + id), Tag: name, Desc: "TABLE",
			Section: SectionPreData, Defn: "CREATE TABLE public." + name + " ();\n", DropStmt: "DROP TABLE public." + name + ";\n",
			Namespace: "public", TableAM: "heap", Owner: "mendix", RelKind: 'r'}},
		{Entry: Entry{DumpID: id + 1000, HadDumper: true, TableOID: "0", OID: strconv.Itoa(16000 + id), Tag: name,
			Desc: "TABLE DATA", Section: SectionData, CopyStmt: copyStmt, Namespace: "public", Owner: "mendix",
			Dependencies: []int{id}}, data: copy},
	}
}

// testWriter appends the archive's primitive encodings.
type testWriter struct {
	bytes.Buffer
}

func (w *testWriter) int(v int64) {
	sign := byte(0)
	if v < 0 {
		sign, v = 1, -v
	}
	w.WriteByte(sign)
	for range 4 {
		w.WriteByte(byte(v))
		v >>= 8
	}
}

func (w *testWriter) str(s string) {
	w.int(int64(len(s)))
	w.WriteString(s)
}

func (w *testWriter) nullStr() { w.int(-1) }

func (w *testWriter) offset(flag byte, pos int64) {
	w.WriteByte(flag)
	for range 8 {
		w.WriteByte(byte(pos))
		pos >>= 8
	}
}

func (a *testArchive) bytes(t testing.TB) []byte {
	t.Helper()
	// First pass with zero offsets to learn where the data starts: the
	// offsets have a fixed width, so the second pass is the same size,
	// as when pg_dump rewrites its TOC in place.
	head := a.headerAndTOC(nil)
	var data testWriter
	offsets := make(map[int]int64)
	for _, e := range a.entries {
		switch {
		case e.raw != nil:
			offsets[e.DumpID] = int64(head.Len() + data.Len())
			e.raw(&data)
		case e.Desc == "TABLE DATA":
			offsets[e.DumpID] = int64(head.Len() + data.Len())
			data.WriteByte(blockData)
			data.int(int64(e.DumpID))
			a.writeChunks(t, &data, e.data)
		case e.Desc == "BLOBS":
			offsets[e.DumpID] = int64(head.Len() + data.Len())
			data.WriteByte(blockBlobs)
			data.int(int64(e.DumpID))
			for _, oid := range e.order {
				data.int(oid)
				a.writeChunks(t, &data, e.blobs[oid])
			}
			data.int(0)
		}
	}
	if a.noOffsets {
		offsets = nil
	}
	out := a.headerAndTOC(offsets)
	out.Write(data.Bytes())
	return out.Bytes()
}

func (a *testArchive) headerAndTOC(offsets map[int]int64) *testWriter {
	w := &testWriter{}
	w.WriteString("PGDMP")
	w.Write([]byte{1, byte(a.minor), 0, 4, 8})
	format := a.format
	if format == 0 {
		format = FormatCustom
	}
	w.WriteByte(format)
	if a.minor >= 15 {
		switch {
		case a.algorithm != nil:
			w.WriteByte(*a.algorithm)
		case a.compression == CompressionGzip:
			w.WriteByte(1)
		case a.compression == CompressionLZ4:
			w.WriteByte(2)
		case a.compression == CompressionZstd:
			w.WriteByte(3)
		default:
			w.WriteByte(0)
		}
	} else if a.compression == CompressionGzip {
		w.int(-1)
	} else {
		w.int(0)
	}
	for _, v := range []int64{56, 34, 12, 21, 10, 125, 0} { // 2025-11-21 12:34:56
		w.int(v)
	}
	w.str("mendixdb")
	w.str("15.4")
	w.str("17.2")
	w.int(int64(len(a.entries)))
	for _, e := range a.entries {
		w.int(int64(e.DumpID))
		w.int(boolInt(e.HadDumper))
		w.str(e.TableOID)
		w.str(e.OID)
		w.str(e.Tag)
		w.str(e.Desc)
		w.int(int64(e.Section))
		w.str(e.Defn)
		w.str(e.DropStmt)
		w.str(e.CopyStmt)
		w.str(e.Namespace)
		w.str(e.Tablespace)
		if a.minor >= 14 {
			w.str(e.TableAM)
		}
		if a.minor >= 16 {
			w.int(int64(e.RelKind))
		}
		w.str(e.Owner)
		w.str("false")
		for _, d := range e.Dependencies {
			w.str(strconv.Itoa(d))
		}
		w.nullStr()
		switch pos, ok := offsets[e.DumpID]; {
		case !e.HadDumper:
			w.offset(offsetNoData, 0)
		case ok:
			w.offset(offsetPosSet, pos)
		default:
			w.offset(offsetPosNotSet, 0)
		}
	}
	return w
}

// writeChunks compresses data as one stream, written in chunks the way
// the compressors' writeF callbacks do.
func (a *testArchive) writeChunks(t testing.TB, w *testWriter, data []byte) {
	t.Helper()
	size := a.chunkSize
	if size == 0 {
		size = 4096
	}
	var compressed bytes.Buffer
	switch a.compression {
	case CompressionGzip:
		zw := zlib.NewWriter(&compressed)
		mustWrite(t, zw, data)
		mustClose(t, zw)
	case CompressionLZ4:
		lw := lz4.NewWriter(&compressed)
		mustWrite(t, lw, data)
		mustClose(t, lw)
	case CompressionZstd:
		zw, err := zstd.NewWriter(&compressed)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, zw, data)
		mustClose(t, zw)
	default:
		compressed.Write(data)
	}
	for b := compressed.Bytes(); len(b) > 0; {
		n := min(size, len(b))
		w.int(int64(n))
		w.Write(b[:n])
		b = b[n:]
	}
	w.int(0)
}

func mustWrite(t testing.TB, w interface{ Write([]byte) (int, error) }, p []byte) {
	t.Helper()
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
}

func mustClose(t testing.TB, c interface{ Close() error }) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
