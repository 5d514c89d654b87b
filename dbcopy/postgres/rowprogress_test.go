package postgres

import (
	"bytes"
	"io"
	"maps"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// tableRowsRecorder is a dbcopy.TableProgress that adds up what it is
// told, per table.
type tableRowsRecorder struct {
	mu          sync.Mutex
	rows, bytes map[string]int64
	calls       int
}

func newTableRowsRecorder() *tableRowsRecorder {
	return &tableRowsRecorder{rows: map[string]int64{}, bytes: map[string]int64{}}
}

func (p *tableRowsRecorder) Phase(string, int64) {}
func (p *tableRowsRecorder) Add(int64)           {}
func (p *tableRowsRecorder) TableRows(table string, rows, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows[table] += rows
	p.bytes[table] += bytes
	p.calls++
}

func TestRowReporter(t *testing.T) {
	many := strings.Repeat("1\tabc\n", 25_000)
	tests := []struct {
		name      string
		data      string
		wantRows  int64
		wantBytes int64
	}{
		{"rows and the end marker", "1\ta\n2\tb\n\\.\n\n\n", 2, 8},
		{"no end marker", "1\ta\n2\tb\n", 2, 8},
		{"a last line without its newline", "1\ta\n2", 1, 4},
		{"an empty value is a row", "\n\n\\.\n", 2, 2},
		{"a value that starts with an escaped backslash", "\\\\.\n\\.\n", 1, 4},
		{"nothing", "", 0, 0},
		{"many rows, reported in batches", many + "\\.\n\n", 25_000, int64(len(many))},
	}
	for _, tc := range tests {
		for _, reader := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"byte by byte", iotest.OneByteReader}, {"halves", iotest.HalfReader}} {
			t.Run(tc.name+"/"+reader.name, func(t *testing.T) {
				p := newTableRowsRecorder()
				r := reportRows(reader.wrap(strings.NewReader(tc.data)), p, "t")
				var out bytes.Buffer
				if _, err := io.Copy(&out, r); err != nil {
					t.Fatal(err)
				}
				if out.String() != tc.data {
					t.Errorf("the data changed on the way")
				}
				if p.rows["t"] != tc.wantRows || p.bytes["t"] != tc.wantBytes {
					t.Errorf("reported %d rows, %d bytes; want %d, %d", p.rows["t"], p.bytes["t"], tc.wantRows, tc.wantBytes)
				}
				if tc.wantRows > reportEveryRows && p.calls > int(tc.wantRows/reportEveryRows)+1 {
					t.Errorf("%d reports for %d rows: not batched", p.calls, tc.wantRows)
				}
			})
		}
	}
	if r := reportRows(strings.NewReader("x"), noTableProgress{}, "t"); r == nil {
		t.Fatal("nil reader")
	} else if _, wrapped := r.(*rowReporter); wrapped {
		t.Errorf("data wrapped for a progress that does not count rows")
	}
}

type noTableProgress struct{}

func (noTableProgress) Phase(string, int64) {}
func (noTableProgress) Add(int64)           {}

// TestNativeLoadReportsRows: the rows the native loader reports per
// table, split across connections or not, add up to the dump's counts.
func TestNativeLoadReportsRows(t *testing.T) {
	dump := extractSampleDump(t)
	src := sourceOf(t, dump)
	want := map[string]int64{}
	for _, st := range src.Tables {
		if st.Rows > 0 {
			want[st.Name] = st.Rows
		}
	}
	if len(want) < 3 {
		t.Fatalf("the sample has rows in only %d tables", len(want))
	}
	for _, split := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole tables", true: "split tables"}[split], func(t *testing.T) {
			if split {
				defer forceSplit(16 << 10)()
			}
			p := newTableRowsRecorder()
			opts := dbcopy.Options{Jobs: 2, Loader: LoaderNative, Progress: p}
			if _, err := migrate(testCtx(t), openTarget(t, newDatabase(t), opts), src, 0); err != nil {
				t.Fatalf("native load: %v", err)
			}
			if !maps.Equal(p.rows, want) {
				t.Errorf("rows reported per table:\n got %v\nwant %v", p.rows, want)
			}
			for table := range want {
				if p.bytes[table] <= 0 {
					t.Errorf("table %s: %d bytes reported", table, p.bytes[table])
				}
			}
		})
	}
}
