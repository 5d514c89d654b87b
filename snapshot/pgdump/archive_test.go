package pgdump

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// orderCopy is COPY text with the awkward values a Mendix table holds.
var orderCopy = []byte("1\ta\\tb\\nc\\\\d\t\\\\N\t\\N\n" +
	"2\t\t\U0001F600 caf\u00e9\t99999999999999999999.99999999\n" +
	"3\t\\N\t\\\\x00ff\t-1.5\n")

func sampleEntries() []testEntry {
	var es []testEntry
	es = append(es, testEntry{Entry: Entry{DumpID: 1, TableOID: "0", OID: "0", Tag: "ENCODING", Desc: "ENCODING",
		Section: SectionPreData, Defn: "SET client_encoding = 'UTF8';\n"}})
	es = append(es, testTable(10, `myfirstmodule$order`,
		"COPY public.\"myfirstmodule$order\" (id, \"order\", \"user\", amount) FROM stdin;\n", orderCopy)...)
	es = append(es, testTable(11, `myfirstmodule$empty`, "COPY public.\"myfirstmodule$empty\" (id) FROM stdin;\n", nil)...)
	es = append(es, testEntry{Entry: Entry{DumpID: 20, HadDumper: true, TableOID: "0", OID: "0", Tag: "BLOBS", Desc: "BLOBS",
		Section: SectionData}, blobs: map[int64][]byte{16401: []byte("large\nobject\n"), 16402: {0, 1, 2}}, order: []int64{16401, 16402}})
	es = append(es, testTable(12, `system$filedocument`,
		"COPY public.\"system$filedocument\" (id, name) FROM stdin;\n", []byte(strings.Repeat("7\tfile.txt\n", 5000)))...)
	es = append(es, testEntry{Entry: Entry{DumpID: 30, TableOID: "0", OID: "0", Tag: `myfirstmodule$order_id_mxseq`,
		Desc: "SEQUENCE SET", Section: SectionData, Namespace: "public",
		Defn: "SELECT pg_catalog.setval('public.\"myfirstmodule$order_id_mxseq\"', 42, true);\n", Dependencies: []int{10}}})
	es = append(es, testEntry{Entry: Entry{DumpID: 40, TableOID: "1259", OID: "16500", Tag: "idx_order_user", Desc: "INDEX",
		Section: SectionPostData, Namespace: "public", Defn: "CREATE INDEX idx_order_user ON public.\"myfirstmodule$order\" USING btree (\"user\");\n",
		Dependencies: []int{10}}})
	return es
}

var sampleRows = map[int]int64{1010: 3, 1011: 0, 1012: 5000}

func TestWrittenArchives(t *testing.T) {
	type variant struct {
		minor     int
		comp      Compression
		noOffsets bool
	}
	var variants []variant
	for minor := 12; minor <= 16; minor++ {
		comps := []Compression{CompressionNone, CompressionGzip}
		if minor >= 15 {
			comps = append(comps, CompressionLZ4, CompressionZstd)
		}
		for _, c := range comps {
			variants = append(variants, variant{minor, c, false}, variant{minor, c, true})
		}
	}
	for _, v := range variants {
		t.Run(fmt.Sprintf("1.%d/%s/offsets=%v", v.minor, v.comp, !v.noOffsets), func(t *testing.T) {
			ta := &testArchive{minor: v.minor, compression: v.comp, noOffsets: v.noOffsets, chunkSize: 1000, entries: sampleEntries()}
			raw := ta.bytes(t)
			a, err := ReadTOC(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			h := a.Header
			wantLevel := 0
			if v.minor < 15 && v.comp == CompressionGzip {
				wantLevel = -1
			}
			if h.VersionMajor != 1 || h.VersionMinor != v.minor || h.IntSize != 4 || h.OffSize != 8 ||
				h.Format != FormatCustom || h.Compression != v.comp || h.CompressionLevel != wantLevel ||
				h.DatabaseName != "mendixdb" || h.ServerVersion != "15.4" || h.DumpVersion != "17.2" ||
				h.Created.Format("2006-01-02 15:04:05") != "2025-11-21 12:34:56" {
				t.Errorf("header = %+v", h)
			}
			if len(a.Entries) != len(ta.entries) {
				t.Fatalf("%d entries, want %d", len(a.Entries), len(ta.entries))
			}
			for i, want := range ta.entries {
				got := a.Entries[i]
				want.dataState = got.dataState
				want.DataOffset, want.HasDataOffset = got.DataOffset, got.HasDataOffset
				if v.minor < 14 {
					want.TableAM = ""
				}
				if v.minor < 16 {
					want.RelKind = 0
				}
				if !reflect.DeepEqual(got, want.Entry) {
					t.Errorf("entry %d:\n got %+v\nwant %+v", i, got, want.Entry)
				}
				if got.HadDumper && got.HasDataOffset == v.noOffsets {
					t.Errorf("entry %d: HasDataOffset = %v with noOffsets %v", got.DumpID, got.HasDataOffset, v.noOffsets)
				}
			}

			counts, err := a.CountAllRows(context.Background(), bytes.NewReader(raw[a.DataStart():]))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(counts, sampleRows) {
				t.Errorf("counts = %v, want %v", counts, sampleRows)
			}

			path := filepath.Join(t.TempDir(), "db.backup")
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Fingerprint() != a.Fingerprint() {
				t.Error("file and stream fingerprints differ")
			}
			// Open in reverse order so that, without offsets, the
			// first call scans past the others.
			for i := len(ta.entries) - 1; i >= 0; i-- {
				want := ta.entries[i]
				if want.Desc != "TABLE DATA" {
					continue
				}
				rc, err := f.OpenData(context.Background(), &want.Entry)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want.data) {
					t.Errorf("OpenData(%d) = %q, want %q", want.DumpID, firstBytes(got), firstBytes(want.data))
				}
			}
		})
	}
}

func firstBytes(b []byte) []byte { return b[:min(len(b), 80)] }

func TestSameArchiveSameFingerprint(t *testing.T) {
	base := func() *testArchive {
		return &testArchive{minor: 14, compression: CompressionGzip, entries: sampleEntries()}
	}
	fp := func(ta *testArchive) string {
		a, err := ReadTOC(bytes.NewReader(ta.bytes(t)))
		if err != nil {
			t.Fatal(err)
		}
		return a.Fingerprint()
	}
	ref := fp(base())
	if again := fp(base()); again != ref {
		t.Fatalf("fingerprint not stable: %s then %s", ref, again)
	}
	changes := map[string]func(*testArchive){
		"version":     func(ta *testArchive) { ta.minor = 13 },
		"compression": func(ta *testArchive) { ta.compression = CompressionNone },
		"a tag":       func(ta *testArchive) { ta.entries[1].Tag = "other" },
		"a defn":      func(ta *testArchive) { ta.entries[7].Defn += " " },
		"a dependency": func(ta *testArchive) {
			ta.entries[8].Dependencies = []int{11}
		},
		"offsets": func(ta *testArchive) { ta.noOffsets = true },
	}
	for name, change := range changes {
		ta := base()
		change(ta)
		if fp(ta) == ref {
			t.Errorf("changing %s kept the fingerprint", name)
		}
	}
}

func TestRefusedInput(t *testing.T) {
	algo9 := byte(9)
	archive := func(ta *testArchive) []byte {
		if ta.entries == nil {
			ta.entries = sampleEntries()
		}
		return ta.bytes(t)
	}
	tarHeader := make([]byte, 1024)
	copy(tarHeader, "db/db.backup")
	copy(tarHeader[257:], "ustar\x0000")
	tests := []struct {
		name        string
		input       []byte
		want        string
		unsupported bool
	}{
		{"newer version", archive(&testArchive{minor: 17}), "archive version 1.17 is newer than this reader supports (1.12-1.16)", true},
		{"major version 2", []byte("PGDMP\x02\x00\x00\x04\x08\x01"), "archive version 2.0 is newer", true},
		{"older version", archive(&testArchive{minor: 11}), "archive version 1.11 is older than this reader supports", true},
		{"directory format", archive(&testArchive{minor: 14, format: formatDirectory}), "directory-format archive (pg_dump -Fd)", true},
		{"tar format toc", archive(&testArchive{minor: 14, format: formatTar}), "tar-format archive (pg_dump -Ft)", true},
		{"unknown format", archive(&testArchive{minor: 14, format: 7}), "unknown archive format 7", false},
		{"unknown compression", archive(&testArchive{minor: 15, algorithm: &algo9}), "unsupported compression algorithm 9", true},
		{"plain SQL dump", []byte("--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n"), "plain SQL dump (pg_dump -Fp)", true},
		{"gzip file", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, "gzip-compressed file", true},
		{"tar file", tarHeader, "this is a tar file", true},
		{"empty file", nil, "the file is empty", false},
		{"junk", []byte("hello, world"), "no PGDMP signature", false},
		{"integer size 0", []byte("PGDMP\x01\x0e\x00\x00\x08\x01"), "offset 8: integer size 0 is not between 1 and 32", false},
		{"offset size 0", []byte("PGDMP\x01\x0e\x00\x04\x00\x01"), "offset 9: file offset size 0 is not between 1 and 16", false},
		{"compression level 10", []byte("PGDMP\x01\x0e\x00\x04\x08\x01\x00\x0a\x00\x00\x00"), "offset 11: compression level 10 is not between -1 and 9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTOC(bytes.NewReader(tt.input))
			checkBadInput(t, err, tt.want)
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", got, tt.unsupported)
			}
		})
	}
}

func TestOpenNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db", "db.backup")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, (&testArchive{minor: 17, entries: sampleEntries()}).bytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	checkBadInput(t, err, path+": archive version 1.17 is newer than this reader supports (1.12-1.16)")
}

func checkBadInput(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if code := exitcode.Of(err); code != exitcode.BadInput {
		t.Errorf("exit code %d (%v), want BadInput", code, err)
	}
}

// TestMalformedArchives corrupts one thing at a time in a valid archive.
func TestMalformedArchives(t *testing.T) {
	valid := &testArchive{minor: 14, compression: CompressionGzip, entries: sampleEntries()}
	tests := []struct {
		name   string
		mutate func(ta *testArchive)
		patch  func(raw []byte) []byte
		want   string
	}{
		{name: "negative TOC count", patch: func(raw []byte) []byte {
			return patchTOCCount(raw, -5)
		}, want: "TOC entry count -5 is not between 0"},
		{name: "huge TOC count", patch: func(raw []byte) []byte {
			return patchTOCCount(raw, 1<<30)
		}, want: "TOC entry count 1073741824 is not between 0"},
		{name: "TOC count larger than the TOC", patch: func(raw []byte) []byte {
			return patchTOCCount(raw, 1_000_000)
		}, want: "TOC entry #"},
		{name: "zero dump ID", mutate: func(ta *testArchive) { ta.entries[0].DumpID = 0 }, want: "dump ID 0 is not positive"},
		{name: "duplicate dump ID", mutate: func(ta *testArchive) { ta.entries[0].DumpID = 10 }, want: "dump ID 10 appears twice"},
		{name: "unknown section", mutate: func(ta *testArchive) { ta.entries[0].Section = 9 }, want: "unknown section 9"},
		{name: "string longer than the cap", patch: func(raw []byte) []byte {
			return patchDatabaseNameLength(raw, 1<<31-1)
		}, want: "offset 51: the database name is 2147483647 bytes long, more than the 268435456 this reader accepts"},
		{name: "string longer than the input", patch: func(raw []byte) []byte {
			return patchDatabaseNameLength(raw, 200<<20)
		}, want: "archive ends in the middle of the database name"},
		{name: "bad dependency", mutate: func(ta *testArchive) {
			ta.entries[2].Dependencies = []int{-3}
		}, want: `dependency "-3" is not a dump ID`},
		{name: "unknown block type", mutate: func(ta *testArchive) {
			ta.entries[2].raw = func(w *testWriter) { w.WriteByte(7); w.int(1010) }
		}, want: "unknown data block type 7"},
		{name: "block of an unknown entry", mutate: func(ta *testArchive) {
			ta.entries[2].raw = func(w *testWriter) { w.WriteByte(blockData); w.int(999); w.int(0) }
		}, want: "data block for dump ID 999, which is not in the TOC"},
		{name: "block of an entry without data", mutate: func(ta *testArchive) {
			ta.entries[2].raw = func(w *testWriter) { w.WriteByte(blockData); w.int(1); w.int(0) }
		}, want: "which the TOC says has no data"},
		{name: "second block of an entry", mutate: func(ta *testArchive) {
			first := ta.entries[2]
			ta.entries[4].raw = func(w *testWriter) {
				w.WriteByte(blockData)
				w.int(int64(first.DumpID))
				w.int(0)
			}
		}, want: "a second data block for TOC entry 1010"},
		{name: "negative chunk length", mutate: func(ta *testArchive) {
			ta.entries[2].raw = func(w *testWriter) { w.WriteByte(blockData); w.int(1010); w.int(-4) }
		}, want: "data chunk length -4 is negative"},
		{name: "corrupt zlib stream", mutate: func(ta *testArchive) {
			ta.entries[2].raw = func(w *testWriter) {
				w.WriteByte(blockData)
				w.int(1010)
				w.str("\x78\x9cthis is not deflate")
				w.int(0)
			}
		}, want: "TOC entry 1010 (TABLE DATA public.myfirstmodule$order): offset"},
		{name: "zlib stream cut short", mutate: func(ta *testArchive) {
			ta.entries[2].raw = func(w *testWriter) {
				var full testWriter
				ta.writeChunks(t, &full, orderCopy)
				b := full.Bytes()
				w.WriteByte(blockData)
				w.int(1010)
				w.str(string(b[5 : 5+10]))
				w.int(0)
			}
		}, want: "gzip data ends before its compressed stream does"},
		{name: "missing block", mutate: func(ta *testArchive) {
			ta.entries[7].raw = func(w *testWriter) {}
		}, want: "the archive ends without the data of TOC entry 1012 (TABLE DATA public.system$filedocument)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := *valid
			ta.entries = sampleEntries()
			if tt.mutate != nil {
				tt.mutate(&ta)
			}
			raw := ta.bytes(t)
			if tt.patch != nil {
				raw = tt.patch(raw)
			}
			r := bytes.NewReader(raw)
			a, err := ReadTOC(r)
			if err == nil {
				_, err = a.CountAllRows(context.Background(), r)
			}
			checkBadInput(t, err, tt.want)
		})
	}
}

// patchDatabaseNameLength overwrites the length of the header's database
// name.
func patchDatabaseNameLength(raw []byte, n int64) []byte {
	i := bytes.Index(raw, []byte("mendixdb")) - 5
	var w testWriter
	w.int(n)
	out := append([]byte{}, raw...)
	copy(out[i:], w.Bytes())
	return out
}

// TestForgedLengthsDoNotAllocate reads archives whose lengths promise far
// more than the input holds: the reader must fail having allocated about
// what the input really contains.
func TestForgedLengthsDoNotAllocate(t *testing.T) {
	raw := (&testArchive{minor: 14, entries: sampleEntries()}).bytes(t)
	inputs := map[string][]byte{
		"200 MiB database name": patchDatabaseNameLength(raw, 200<<20),
		"a million TOC entries": patchTOCCount(raw, 1_000_000),
	}
	for name, input := range inputs {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := ReadTOC(bytes.NewReader(input))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("no error")
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("allocated %d bytes for a %d-byte input", alloc, len(input))
			}
		})
	}
}

// patchTOCCount overwrites the entry count, which follows the header's
// "17.2" pg_dump version.
func patchTOCCount(raw []byte, n int64) []byte {
	i := bytes.Index(raw, []byte("17.2")) + 4
	var w testWriter
	w.int(n)
	out := append([]byte{}, raw...)
	copy(out[i:], w.Bytes())
	return out
}

// TestTruncatedArchives cuts archives at every byte (under -short at a
// sample of them, see truncationCuts): each cut must be an error, never a
// panic or a silently short count.
func TestTruncatedArchives(t *testing.T) {
	inputs := map[string][]byte{
		"written gzip": (&testArchive{minor: 14, compression: CompressionGzip, entries: sampleEntries()}).bytes(t),
		"written zstd": (&testArchive{minor: 16, compression: CompressionZstd, entries: sampleEntries()}).bytes(t),
		"written lz4":  (&testArchive{minor: 15, compression: CompressionLZ4, noOffsets: true, entries: sampleEntries()}).bytes(t),
	}
	addTestdataArchives(t, inputs)
	for name, raw := range inputs {
		t.Run(name, func(t *testing.T) {
			if _, err := readAll(bytes.NewReader(raw)); err != nil {
				t.Fatalf("the whole archive: %v", err)
			}
			for _, cut := range truncationCuts(len(raw), testing.Short()) {
				_, err := readAll(bytes.NewReader(raw[:cut]))
				if err == nil {
					t.Fatalf("cut at %d of %d: no error", cut, len(raw))
				}
				if code := exitcode.Of(err); code != exitcode.BadInput {
					t.Fatalf("cut at %d: exit code %d: %v", cut, code, err)
				}
			}
		})
	}
}

// addTestdataArchives adds the real archives of testdata to inputs, by
// file name.
func addTestdataArchives(t testing.TB, inputs map[string][]byte) {
	t.Helper()
	for _, name := range realTestdata {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		inputs[name] = raw
	}
}

// shortTruncationCuts bounds the cuts per archive under -short.
const shortTruncationCuts = 400

// truncationCuts is where TestTruncatedArchives cuts an archive of n
// bytes: everywhere, or under -short every byte of the header and the
// start of the TOC (where the parser's branches are densest), every one of
// the last bytes, and an even stride through the rest.
func truncationCuts(n int, short bool) []int {
	if !short || n <= shortTruncationCuts {
		cuts := make([]int, n)
		for i := range cuts {
			cuts[i] = i
		}
		return cuts
	}
	const head, tail = 160, 40
	budget := shortTruncationCuts - head - tail
	stride := max(1, (n-head-tail+budget-1)/budget)
	cuts := make([]int, 0, shortTruncationCuts)
	for i := range head {
		cuts = append(cuts, i)
	}
	for i := head; i < n-tail; i += stride {
		cuts = append(cuts, i)
	}
	for i := n - tail; i < n; i++ {
		cuts = append(cuts, i)
	}
	return cuts
}

// readAll reads a whole archive from a stream: TOC, then every row.
func readAll(r io.Reader) (map[int]int64, error) {
	a, err := ReadTOC(r)
	if err != nil {
		return nil, err
	}
	return a.CountAllRows(context.Background(), r)
}

// TestScanDataContinuesTheStream checks that ScanData goes on from where
// ReadTOC stopped whatever kind of reader it is given.
func TestScanDataContinuesTheStream(t *testing.T) {
	raw := (&testArchive{minor: 14, compression: CompressionGzip, noOffsets: true, entries: sampleEntries()}).bytes(t)
	readers := map[string]func() io.Reader{
		"bytes.Reader (seekable)": func() io.Reader { return bytes.NewReader(raw) },
		"plain stream":            func() io.Reader { return struct{ io.Reader }{bytes.NewReader(raw)} },
		"one byte at a time":      func() io.Reader { return iotest.OneByteReader(bytes.NewReader(raw)) },
		"uncomparable value":      func() io.Reader { return uncomparableReader{r: []io.Reader{bytes.NewReader(raw)}} },
	}
	for name, open := range readers {
		t.Run(name, func(t *testing.T) {
			counts, err := readAll(open())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(counts, sampleRows) {
				t.Errorf("counts = %v, want %v", counts, sampleRows)
			}
		})
	}
	t.Run("seeker is left at the first data block", func(t *testing.T) {
		r := bytes.NewReader(raw)
		a, err := ReadTOC(r)
		if err != nil {
			t.Fatal(err)
		}
		pos, _ := r.Seek(0, io.SeekCurrent)
		if pos != a.DataStart() || raw[pos] != blockData {
			t.Errorf("reader at %d, data starts at %d", pos, a.DataStart())
		}
	})
}

func TestTruncationCuts(t *testing.T) {
	for _, n := range []int{0, 10, shortTruncationCuts, 5000, 200000} {
		all := truncationCuts(n, false)
		sample := truncationCuts(n, true)
		if len(all) != n {
			t.Errorf("n=%d: %d cuts without -short, want every byte", n, len(all))
		}
		if len(sample) > shortTruncationCuts {
			t.Errorf("n=%d: %d cuts under -short, want at most %d", n, len(sample), shortTruncationCuts)
		}
		for i, c := range sample {
			if c < 0 || c >= n || (i > 0 && c <= sample[i-1]) {
				t.Fatalf("n=%d: cut %d at %d is out of range or order", n, i, c)
			}
		}
		if n > shortTruncationCuts && (sample[0] != 0 || sample[len(sample)-1] != n-1 || len(sample) < shortTruncationCuts/2) {
			t.Errorf("n=%d: sample %d cuts from %d to %d, want the first and last byte and a dense sample",
				n, len(sample), sample[0], sample[len(sample)-1])
		}
	}
}

// uncomparableReader is an io.Reader whose dynamic value cannot be
// compared with ==, which must not make ScanData panic.
type uncomparableReader struct{ r []io.Reader }

func (u uncomparableReader) Read(p []byte) (int, error) { return u.r[0].Read(p) }

func TestScanDataCallback(t *testing.T) {
	raw := (&testArchive{minor: 15, compression: CompressionLZ4, entries: sampleEntries()}).bytes(t)
	t.Run("partial reads do not disturb later blocks", func(t *testing.T) {
		r := bytes.NewReader(raw)
		a, err := ReadTOC(r)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = a.ScanData(context.Background(), r, func(e *Entry, data io.Reader) error {
			line := make([]byte, 2)
			n, _ := io.ReadFull(data, line)
			got = append(got, fmt.Sprintf("%d:%q", e.DumpID, line[:n]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{`1010:"1\t"`, `1011:""`, `1012:"7\t"`}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("an error from fn is returned as it is", func(t *testing.T) {
		r := bytes.NewReader(raw)
		a, err := ReadTOC(r)
		if err != nil {
			t.Fatal(err)
		}
		stop := errors.New("stop here")
		calls := 0
		err = a.ScanData(context.Background(), r, func(*Entry, io.Reader) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("err = %v after %d calls, want %v after 1", err, calls, stop)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		r := bytes.NewReader(raw)
		a, err := ReadTOC(r)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = a.CountAllRows(ctx, r)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("data is unusable after fn returns", func(t *testing.T) {
		r := bytes.NewReader(raw)
		a, err := ReadTOC(r)
		if err != nil {
			t.Fatal(err)
		}
		var kept io.Reader
		err = a.ScanData(context.Background(), r, func(_ *Entry, data io.Reader) error {
			kept = data
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := kept.Read(make([]byte, 10)); n != 0 || !errors.Is(err, errDataClosed) {
			t.Errorf("Read after the scan = %d, %v", n, err)
		}
	})
}

// TestOpenDataConcurrently opens every table from several goroutines of
// an archive without offsets, so that they race to scan for the blocks.
func TestOpenDataConcurrently(t *testing.T) {
	raw := (&testArchive{minor: 16, compression: CompressionZstd, noOffsets: true, entries: sampleEntries()}).bytes(t)
	path := filepath.Join(t.TempDir(), "db.backup")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(sampleRows))
	for range 4 {
		for id, want := range sampleRows {
			wg.Go(func() {
				e, _ := f.Lookup(id)
				rc, err := f.OpenData(context.Background(), e)
				if err != nil {
					errs <- err
					return
				}
				defer rc.Close()
				if n, err := CountRows(context.Background(), rc); err != nil || n != want {
					errs <- fmt.Errorf("dump ID %d: %d rows, %v; want %d", id, n, err, want)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestOpenDataChecksTheOffset points one entry's recorded offset at
// another entry's block: OpenData must notice instead of returning the
// wrong table's rows.
func TestOpenDataChecksTheOffset(t *testing.T) {
	raw := (&testArchive{minor: 14, compression: CompressionNone, entries: sampleEntries()}).bytes(t)
	a, err := ReadTOC(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	order, _ := a.Lookup(1010)
	files, _ := a.Lookup(1012)
	offsetBytes := func(pos int64) []byte {
		var w testWriter
		w.offset(offsetPosSet, pos)
		return w.Bytes()
	}
	patched := bytes.Replace(raw, offsetBytes(order.DataOffset), offsetBytes(files.DataOffset), 1)
	path := filepath.Join(t.TempDir(), "db.backup")
	if err := os.WriteFile(path, patched, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.OpenData(context.Background(), order)
	checkBadInput(t, err, "the TOC says the data of TOC entry 1010 (TABLE DATA public.myfirstmodule$order) starts here, but found the block of TOC entry 1012")
}

func TestOpenDataRefusals(t *testing.T) {
	raw := (&testArchive{minor: 14, compression: CompressionNone, entries: sampleEntries()}).bytes(t)
	path := filepath.Join(t.TempDir(), "db.backup")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	index, _ := f.Lookup(40)
	tests := []struct {
		name string
		e    *Entry
		want string
	}{
		{"nil entry", nil, "OpenData needs an entry"},
		{"unknown dump ID", &Entry{DumpID: 77}, "dump ID 77 is not in this archive's TOC"},
		{"entry without data", index, "TOC entry 40 (INDEX public.idx_order_user) has no table data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.OpenData(context.Background(), tt.e)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
