package pgdump

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCountRows(t *testing.T) {
	long := strings.Repeat("x", countBufferSize-1)
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr string
	}{
		{name: "empty", in: "", want: 0},
		{name: "one row", in: "1\ta\n", want: 1},
		{name: "last row without newline", in: "1\ta\n2\tb", want: 2},
		{name: "empty lines are rows", in: "\n\n", want: 2},
		{name: "escaped newline stays in its row", in: "1\ta\\nb\\nc\n2\n", want: 2},
		{name: "NULL first column", in: "\\N\t1\n\\N\t2\n", want: 2},
		{name: "escaped backslash then dot", in: "\\\\.\n\\\\.\n", want: 2},
		{name: "end marker only", in: "\\.\n", want: 0},
		{name: "rows then end marker", in: "1\n2\n\\.\n", want: 2},
		{name: "nothing counted after the marker", in: "1\n\\.\n3\n4\n", want: 1},
		{name: "end marker with CRLF", in: "1\n\\.\r\n", want: 1},
		{name: "end marker at EOF", in: "1\n\\.", want: 1},
		{name: "end marker and CR at EOF", in: "1\n\\.\r", want: 1},
		{name: "dot in a value", in: "1\t\\.\n", want: 1},
		{name: "lone backslash line at EOF", in: "1\n\\", want: 2},
		{name: "marker followed by text", in: "1\n\\.x\n", wantErr: "offset 2: COPY data line starts with the end-of-data marker"},
		{name: "marker CR and text", in: "\\.\rx", wantErr: "offset 0: COPY data line starts"},
		{name: "marker across the buffer boundary", in: long + "\n\\.\nignored\n", want: 1},
		{name: "rows across the buffer boundary", in: long + "\n" + long + "\n", want: 2},
	}
	readers := map[string]func(string) io.Reader{
		"whole":       func(s string) io.Reader { return strings.NewReader(s) },
		"byte a time": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"odd chunks":  func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
		"data+EOF":    func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) },
	}
	for _, tt := range tests {
		for rname, open := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got, err := CountRows(context.Background(), open(tt.in))
				if tt.wantErr != "" {
					checkBadInput(t, err, tt.wantErr)
					return
				}
				if err != nil || got != tt.want {
					t.Errorf("CountRows = %d, %v; want %d", got, err, tt.want)
				}
			})
		}
	}
}

// TestCountRowsMarkerAtEveryBoundary moves the end marker across the
// buffer boundary one byte at a time.
func TestCountRowsMarkerAtEveryBoundary(t *testing.T) {
	for shift := -6; shift <= 6; shift++ {
		head := strings.Repeat("y", countBufferSize+shift-1) + "\n"
		in := head + "a\n\\.\nb\n"
		got, err := CountRows(context.Background(), strings.NewReader(in))
		if err != nil || got != 2 {
			t.Errorf("shift %d: CountRows = %d, %v; want 2", shift, got, err)
		}
	}
}

func TestCountRowsErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	if _, err := CountRows(context.Background(), iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("read error: got %v", err)
	}
	if _, err := CountRows(context.Background(), stuckReader{}); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("reader that returns nothing: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CountRows(ctx, strings.NewReader("1\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
}

// stuckReader returns no bytes and no error, forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

// TestCountRowsAllocations: the allocations of CountRows must not grow
// with the number of rows.
func TestCountRowsAllocations(t *testing.T) {
	data := copyRows(50_000)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := CountRows(context.Background(), bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 3 {
		t.Errorf("%v allocations to count 50000 rows", allocs)
	}
}

// copyRows is COPY text shaped like a Mendix entity table.
func copyRows(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%d\t%08x-1c2d-4e5f-8a9b-0c1d2e3f4a5b\tinvoice %d.pdf\t%d\tt\t\\N\t2024-01-02 03:04:05.678\tline\\nbreak\\\\\n", i, i, i, i*37)
	}
	return b.Bytes()
}

func BenchmarkCountRows(b *testing.B) {
	data := copyRows(200_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CountRows(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
