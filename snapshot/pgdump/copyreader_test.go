package pgdump

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// row renders fields for comparison: NULL as <NULL>, values quoted.
func row(fields []Field) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		if f.Null {
			out[i] = "<NULL>"
		} else {
			out[i] = string(f.Value)
		}
	}
	return out
}

func TestCopyReader(t *testing.T) {
	long := strings.Repeat("ab", 100_000)
	tests := []struct {
		name    string
		in      string
		want    [][]string
		wantErr string
	}{
		{name: "empty input", in: "", want: nil},
		{name: "plain columns", in: "1\tabc\t\n", want: [][]string{{"1", "abc", ""}}},
		{name: "NULL and the text \\N", in: "\\N\t\\\\N\tN\n", want: [][]string{{"<NULL>", `\N`, "N"}}},
		{name: "\\N inside a longer value", in: "\\Nx\tx\\N\n", want: [][]string{{"Nx", "xN"}}},
		{name: "control escapes", in: "\\b\\f\\n\\r\\t\\v\\\\\n", want: [][]string{{"\b\f\n\r\t\v\\"}}},
		{name: "escaped tab is data", in: "a\\\tb\tc\n", want: [][]string{{"a\tb", "c"}}},
		{name: "octal", in: "\\101\\0\\7\\1234\\08\n", want: [][]string{{"A\x00\x07S4\x008"}}},
		{name: "octal wraps at a byte", in: "\\777\n", want: [][]string{{"\xff"}}},
		{name: "hex", in: "\\x41\\x4\\x4g\\xg\\xFf\n", want: [][]string{{"A\x04\x04gxg\xff"}}},
		{name: "hex at end of line", in: "\\x\n", want: [][]string{{"x"}}},
		{name: "other escapes stand for themselves", in: "x\\.\\a\\z\\\"\n", want: [][]string{{`x.az"`}}},
		{name: "bytea hex as COPY writes it", in: "\\\\x00ff00\n", want: [][]string{{`\x00ff00`}}},
		{name: "unicode beyond the BMP", in: "\U0001F600\t\U0001D11E\n", want: [][]string{{"\U0001F600", "\U0001D11E"}}},
		{name: "empty line is one empty field", in: "\n", want: [][]string{{""}}},
		{name: "last line without newline", in: "1\n2", want: [][]string{{"1"}, {"2"}}},
		{name: "end marker", in: "1\n\\.\n2\n", want: [][]string{{"1"}}},
		{name: "end marker with CR", in: "1\n\\.\r\n", want: [][]string{{"1"}}},
		{name: "line longer than the buffer", in: long + "\t" + long + "\n1\n", want: [][]string{{long, long}, {"1"}}},
		{name: "unescaped backslash at end of line", in: "1\nab\\\n", want: [][]string{{"1"}},
			wantErr: "offset 2: COPY data line 2 ends with an unescaped backslash"},
		{name: "marker followed by text", in: "\\.x\n", wantErr: "COPY data line 1 starts with the end-of-data marker"},
	}
	for _, tt := range tests {
		for rname, wrap := range map[string]func(io.Reader) io.Reader{
			"whole":       func(r io.Reader) io.Reader { return r },
			"byte a time": iotest.OneByteReader,
		} {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				cr := NewCopyReader(wrap(strings.NewReader(tt.in)))
				var got [][]string
				var err error
				for {
					var fields []Field
					fields, err = cr.Next()
					if err != nil {
						break
					}
					got = append(got, row(fields))
				}
				if tt.wantErr != "" {
					checkBadInput(t, err, tt.wantErr)
				} else if err != io.EOF {
					t.Fatalf("err = %v, want io.EOF", err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("rows = %q, want %q", got, tt.want)
				}
				for i := range got {
					if strings.Join(got[i], "|") != strings.Join(tt.want[i], "|") || len(got[i]) != len(tt.want[i]) {
						t.Errorf("row %d = %q, want %q", i, got[i], tt.want[i])
					}
				}
				if _, again := cr.Next(); again != err {
					t.Errorf("Next after the end = %v, want %v again", again, err)
				}
			})
		}
	}
}

// TestCopyReaderReusesBuffers: after warming up, reading a row must not
// allocate.
func TestCopyReaderReusesBuffers(t *testing.T) {
	data := copyRows(20_000)
	cr := NewCopyReader(bytes.NewReader(data))
	for range 100 {
		if _, err := cr.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := cr.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per row", allocs)
	}
}

func BenchmarkCopyReader(b *testing.B) {
	data := copyRows(200_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cr := NewCopyReader(bytes.NewReader(data))
		for {
			if _, err := cr.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
