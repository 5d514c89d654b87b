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
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// countAtWorkers are the pool sizes every parallel count is run with.
var countAtWorkers = []int{1, 3}

// countAt reads raw's TOC from a stream and counts its rows with
// CountAllRowsAt, the blocks read again from raw itself.
func countAt(ctx context.Context, raw []byte, workers int) (map[int]int64, error) {
	r := bytes.NewReader(raw)
	a, err := ReadTOC(r)
	if err != nil {
		return nil, err
	}
	return a.CountAllRowsAt(ctx, r, bytes.NewReader(raw), workers)
}

// checkSameAsSequential requires CountAllRowsAt to give raw exactly the
// counts or the error message of CountAllRows, whatever the pool size.
func checkSameAsSequential(t *testing.T, raw []byte, what string) {
	t.Helper()
	want, wantErr := readAll(bytes.NewReader(raw))
	for _, workers := range countAtWorkers {
		got, err := countAt(context.Background(), raw, workers)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("%s, %d workers: error\n got %v\nwant %v", what, workers, err, wantErr)
		}
		if err != nil && exitcode.Of(err) != exitcode.Of(wantErr) {
			t.Fatalf("%s, %d workers: exit code %d, want %d", what, workers, exitcode.Of(err), exitcode.Of(wantErr))
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s, %d workers: counts %v, want %v", what, workers, got, want)
		}
	}
}

// manyTables is an archive's worth of tables of uneven sizes, so that
// workers finish out of order.
func manyTables(n int) []testEntry {
	var es []testEntry
	for i := range n {
		name := fmt.Sprintf("module$table%d", i)
		es = append(es, testTable(100+i, name, "COPY public.\""+name+"\" (id) FROM stdin;\n", copyRows((i*7919)%400))...)
	}
	return es
}

// compressions are the variants of written archives the tests run on.
var compressions = []struct {
	minor int
	comp  Compression
}{
	{14, CompressionNone}, {14, CompressionGzip}, {15, CompressionLZ4}, {16, CompressionZstd},
}

func TestCountAllRowsAtMatchesCountAllRows(t *testing.T) {
	inputs := map[string][]byte{}
	for _, c := range compressions {
		for _, noOffsets := range []bool{false, true} {
			name := fmt.Sprintf("%s offsets=%v", c.comp, !noOffsets)
			inputs["sample "+name] = (&testArchive{minor: c.minor, compression: c.comp, noOffsets: noOffsets,
				chunkSize: 1000, entries: sampleEntries()}).bytes(t)
			inputs["many tables "+name] = (&testArchive{minor: c.minor, compression: c.comp, noOffsets: noOffsets,
				entries: manyTables(30)}).bytes(t)
		}
	}
	addTestdataArchives(t, inputs)
	for name, raw := range inputs {
		t.Run(name, func(t *testing.T) {
			counts, err := readAll(bytes.NewReader(raw))
			if err != nil || len(counts) == 0 {
				t.Fatalf("CountAllRows = %v, %v; want counts", counts, err)
			}
			checkSameAsSequential(t, raw, "the whole archive")
			// Every cut in the first data blocks, where the framing is
			// densest, then a sample through the rest.
			a, err := ReadTOC(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			start := int(a.DataStart())
			for cut := start; cut < len(raw); cut += max(1, (cut-start)/3) {
				checkSameAsSequential(t, raw[:cut], fmt.Sprintf("cut at %d of %d", cut, len(raw)))
			}
			// A flipped byte in the data area: a bad frame, a bad
			// compressed stream or, undetected, other rows.
			for at := start; at < len(raw); at += max(1, (len(raw)-start)/30) {
				flipped := bytes.Clone(raw)
				flipped[at] ^= 0x5a
				checkSameAsSequential(t, flipped, fmt.Sprintf("byte %d flipped", at))
			}
		})
	}
}

// badRowsAt puts a line that COPY refuses (`\.` followed by text) into the
// COPY text of table i of a manyTables archive, after its first rows.
func badRowsAt(es []testEntry, i int, after int) {
	e := &es[2*i+1]
	data := copyRows(after)
	e.data = append(append(data, "\\.oops\n"...), copyRows(50)...)
}

func TestCountAllRowsAtReportsTheFirstBadBlock(t *testing.T) {
	tests := []struct {
		name        string
		early, late int // tables with a bad line
		earlyAfter  int // rows before the early table's bad line
		want        string
	}{
		{name: "early block bad at its end, late block at its start", early: 1, late: 28, earlyAfter: 3000,
			want: `TOC entry 1101 (TABLE DATA public.module$table1): offset`},
		{name: "first and last block", early: 0, late: 29, earlyAfter: 3,
			want: `TOC entry 1100 (TABLE DATA public.module$table0): offset`},
		{name: "neighbours", early: 10, late: 11, earlyAfter: 2000,
			want: `TOC entry 1110 (TABLE DATA public.module$table10): offset`},
	}
	for _, c := range compressions {
		for _, tt := range tests {
			t.Run(string(c.comp)+"/"+tt.name, func(t *testing.T) {
				es := manyTables(30)
				badRowsAt(es, tt.early, tt.earlyAfter)
				badRowsAt(es, tt.late, 0)
				raw := (&testArchive{minor: c.minor, compression: c.comp, entries: es}).bytes(t)
				for _, workers := range countAtWorkers {
					_, err := countAt(context.Background(), raw, workers)
					checkBadInput(t, err, tt.want)
					if !strings.Contains(fmt.Sprint(err), "COPY data line starts with the end-of-data marker") {
						t.Errorf("%d workers: %v, want the bad line named", workers, err)
					}
				}
				checkSameAsSequential(t, raw, "two bad blocks")
			})
		}
	}
}

func TestCountAllRowsAtTruncated(t *testing.T) {
	const table = 7 // a table of the manyTables archive
	tests := []struct {
		name string
		cut  func(a *Archive, block int64) int64 // where to cut, given the block's offset
		want string
	}{
		{name: "right after the TOC", cut: func(a *Archive, _ int64) int64 { return a.DataStart() },
			want: "the archive ends without the data of TOC entry 1100 (TABLE DATA public.module$table0)"},
		{name: "in a block header", cut: func(_ *Archive, block int64) int64 { return block + 3 },
			want: "archive ends in the middle of a data block's dump ID"},
		{name: "in a chunk header", cut: func(_ *Archive, block int64) int64 { return block + 6 + 2 },
			want: "TOC entry 1107 (TABLE DATA public.module$table7): offset"},
		{name: "in the middle of a block", cut: func(_ *Archive, block int64) int64 { return block + 6 + 5 + 700 },
			want: "TOC entry 1107 (TABLE DATA public.module$table7): offset"},
	}
	chunkHeader := "archive ends in the middle of a data chunk length"
	for _, c := range compressions {
		raw := (&testArchive{minor: c.minor, compression: c.comp, entries: manyTables(30)}).bytes(t)
		a, err := ReadTOC(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		e, _ := a.Lookup(1100 + table)
		for _, tt := range tests {
			t.Run(string(c.comp)+"/"+tt.name, func(t *testing.T) {
				cut := tt.cut(a, e.DataOffset)
				for _, workers := range countAtWorkers {
					_, err := countAt(context.Background(), raw[:cut], workers)
					checkBadInput(t, err, tt.want)
					if tt.name == "in a chunk header" && !strings.Contains(err.Error(), chunkHeader) {
						t.Errorf("%v, want %q", err, chunkHeader)
					}
				}
				checkSameAsSequential(t, raw[:cut], "cut")
			})
		}
	}
}

// TestCountAllRowsAtSpool reads the archive from a pipe while the same
// bytes are written to a file just ahead of it, as the pipeline spools a
// dump out of a backup, and the workers read the file being written.
func TestCountAllRowsAtSpool(t *testing.T) {
	for _, c := range compressions {
		raw := (&testArchive{minor: c.minor, compression: c.comp, noOffsets: true, entries: manyTables(30)}).bytes(t)
		for _, tt := range []struct {
			name string
			in   []byte
		}{{"whole", raw}, {"cut short", raw[:len(raw)*2/3]}} {
			t.Run(string(c.comp)+"/"+tt.name, func(t *testing.T) {
				want, wantErr := readAll(bytes.NewReader(tt.in))
				f, err := os.Create(filepath.Join(t.TempDir(), "db.backup.partial"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				pr, pw := io.Pipe()
				go func() {
					// Small, uneven writes: blocks complete in pieces.
					_, err := io.Copy(io.MultiWriter(f, pw), iotest.HalfReader(bytes.NewReader(tt.in)))
					pw.CloseWithError(err)
				}()
				a, err := ReadTOC(pr)
				if err != nil {
					t.Fatal(err)
				}
				got, err := a.CountAllRowsAt(context.Background(), pr, f, 3)
				io.Copy(io.Discard, pr)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
					t.Errorf("CountAllRowsAt = %v, %v\nwant %v, %v", got, err, want, wantErr)
				}
			})
		}
	}
}

func TestCountAllRowsAtStreamError(t *testing.T) {
	raw := (&testArchive{minor: 14, compression: CompressionGzip, entries: manyTables(30)}).bytes(t)
	boom := errors.New("backup stream broke")
	cut := len(raw) / 2
	stream := io.MultiReader(bytes.NewReader(raw[:cut]), iotest.ErrReader(boom))
	a, err := ReadTOC(stream)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.CountAllRowsAt(context.Background(), stream, bytes.NewReader(raw[:cut]), 2)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the stream's error", err)
	}
}

func TestCountAllRowsAtCancelled(t *testing.T) {
	raw := (&testArchive{minor: 16, compression: CompressionZstd, entries: manyTables(30)}).bytes(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, workers := range countAtWorkers {
		if _, err := countAt(ctx, raw, workers); !errors.Is(err, context.Canceled) {
			t.Errorf("%d workers: err = %v, want context.Canceled", workers, err)
		}
	}
}
