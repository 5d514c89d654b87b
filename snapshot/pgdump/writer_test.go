package pgdump

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"
)

// testArchive describes a custom-format archive for the reader's tests,
// including versions and compressions that the local pg_dump cannot
// produce and malformed ones; bytes writes it with the package's Writer.
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

func (w *testWriter) offset(flag byte, pos int64) {
	w.WriteByte(flag)
	for range 8 {
		w.WriteByte(byte(pos))
		pos >>= 8
	}
}

// seekBuffer is an in-memory io.WriteSeeker, the stand-in for the
// archive file whose table of contents the Writer rewrites at the end.
type seekBuffer struct {
	b   []byte
	pos int
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if need := s.pos + len(p); need > len(s.b) {
		s.b = append(s.b, make([]byte, need-len(s.b))...)
	}
	copy(s.b[s.pos:], p)
	s.pos += len(p)
	return len(p), nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		s.pos = int(off)
	case io.SeekCurrent:
		s.pos += int(off)
	case io.SeekEnd:
		s.pos = len(s.b) + int(off)
	}
	return int64(s.pos), nil
}

// bytes writes the archive with the package's Writer: to a seekable buffer
// (offsets recorded) or, with noOffsets, to a plain one (a pipe).
func (a *testArchive) bytes(t testing.TB) []byte {
	t.Helper()
	comp := a.compression
	if comp == "" {
		comp = CompressionNone
	}
	entries := make([]Entry, len(a.entries))
	for i, e := range a.entries {
		entries[i] = e.Entry
	}
	opts := WriterOptions{VersionMinor: a.minor, Compression: comp, Level: -1, ChunkSize: a.chunkSize,
		Created:      time.Date(2025, 11, 21, 12, 34, 56, 0, time.UTC),
		DatabaseName: "mendixdb", ServerVersion: "15.4", DumpVersion: "17.2"}
	if opts.ChunkSize == 0 {
		opts.ChunkSize = 4096
	}
	raw := rawOptions{unchecked: true, format: a.format, algorithm: a.algorithm}
	var plain bytes.Buffer
	var seekable seekBuffer
	var out io.Writer = &seekable
	if a.noOffsets {
		out = &plain
	}
	w, err := newWriter(out, entries, opts, raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range a.entries {
		switch {
		case e.raw != nil:
			var block testWriter
			e.raw(&block)
			if err := w.AppendBlock(e.DumpID, &block); err != nil {
				t.Fatal(err)
			}
		case e.Desc == "TABLE DATA":
			dw, err := w.Data(e.DumpID)
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, dw, e.data)
			mustClose(t, dw)
		case e.Desc == "BLOBS":
			var block testWriter
			block.WriteByte(blockBlobs)
			block.int(int64(e.DumpID))
			for _, oid := range e.order {
				block.int(oid)
				a.writeChunks(t, &block, e.blobs[oid])
			}
			block.int(0)
			if err := w.AppendBlock(e.DumpID, &block); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if a.noOffsets {
		return plain.Bytes()
	}
	return seekable.b
}

// writeChunks writes data as one compressed stream cut into chunks, with
// the Writer's own compressor and chunker.
func (a *testArchive) writeChunks(t testing.TB, w *testWriter, data []byte) {
	t.Helper()
	size := a.chunkSize
	if size == 0 {
		size = 4096
	}
	comp := a.compression
	if comp == "" {
		comp = CompressionNone
	}
	chunks := &chunkWriter{dst: w, buf: make([]byte, 0, size)}
	cw, err := compressor(comp, 0, chunks)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, cw, data)
	mustClose(t, cw)
	if err := chunks.end(); err != nil {
		t.Fatal(err)
	}
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
