package typemap

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// goMssqldbUCS2 is what go-mssqldb's bulk copy sends for a string in an
// nvarchar column (its str2ucs2).
func goMssqldbUCS2(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 2*len(units))
	for i, u := range units {
		out[2*i], out[2*i+1] = byte(u), byte(u>>8)
	}
	return out
}

func TestAppendUTF16LE(t *testing.T) {
	tests := []struct {
		name, in string
		want     []byte
	}{
		{"empty", "", []byte{}},
		{"ascii", "Ab\x00~\x7f", []byte{'A', 0, 'b', 0, 0, 0, '~', 0, 0x7f, 0}},
		{"two bytes", "é", []byte{0xe9, 0}},
		{"three bytes", "€", []byte{0xac, 0x20}},
		{"last of the BMP", "\uffff", []byte{0xff, 0xff}},
		{"beyond the BMP", "😀", []byte{0x3d, 0xd8, 0x00, 0xde}},
		{"last code point", "\U0010FFFF", []byte{0xff, 0xdb, 0xff, 0xdf}},
		{"invalid byte", "a\xffb", []byte{'a', 0, 0xfd, 0xff, 'b', 0}},
		{"cut four-byte sequence", "\xf0\x9f\x98", []byte{0xfd, 0xff, 0xfd, 0xff, 0xfd, 0xff}},
		{"encoded surrogate", "\xed\xa0\x80", []byte{0xfd, 0xff, 0xfd, 0xff, 0xfd, 0xff}},
		{"overlong NUL", "\xc0\x80", []byte{0xfd, 0xff, 0xfd, 0xff}},
		{"beyond U+10FFFF", "\xf4\x90\x80\x80", []byte{0xfd, 0xff, 0xfd, 0xff, 0xfd, 0xff, 0xfd, 0xff}},
		{"mixed", "x😀é\x80€", []byte{'x', 0, 0x3d, 0xd8, 0x00, 0xde, 0xe9, 0, 0xfd, 0xff, 0xac, 0x20}},
	}
	for _, tc := range tests {
		got := appendUTF16LE([]byte("prefix"), []byte(tc.in))
		if !bytes.Equal(got, append([]byte("prefix"), tc.want...)) {
			t.Errorf("%s: %q gives % x, want % x", tc.name, tc.in, got, tc.want)
		}
		if ref := goMssqldbUCS2(tc.in); !bytes.Equal(ref, tc.want) {
			t.Errorf("%s: go-mssqldb sends % x, the test wants % x", tc.name, ref, tc.want)
		}
	}
	// Runs of eight ASCII bytes and more, broken at every offset.
	for _, in := range []string{"abcdefgh", "abcdefghi", "abcdefghijklmnop\x7f", "é1234567890abcdefé", "1234567😀12345678\xff12345678"} {
		for cut := range len(in) {
			s := in[cut:]
			if got, want := appendUTF16LE(nil, []byte(s)), goMssqldbUCS2(s); !bytes.Equal(got, want) {
				t.Errorf("%q gives % x, go-mssqldb % x", s, got, want)
			}
		}
	}
}

// FuzzAppendUTF16LE: the bytes are go-mssqldb's for every input, valid
// UTF-8 or not.
func FuzzAppendUTF16LE(f *testing.F) {
	for _, seed := range []string{"", "abc", "é€😀", "\xff", "\xed\xa0\x80", "\xf0\x9f\x98", "a\xc0\x80b\U0010FFFF"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := appendUTF16LE(nil, in), goMssqldbUCS2(string(in)); !bytes.Equal(got, want) {
			t.Errorf("%q gives % x, go-mssqldb % x", in, got, want)
		}
	})
}

// bulkValueOf is what a BulkRow must give for the value ConvertFields
// gives for the same column: nvarchar and nchar strings as go-mssqldb
// would encode them.
func bulkValueOf(c *Column, v any) any {
	if s, ok := v.(string); ok && (c.Target.Name == "nvarchar" || c.Target.Name == "nchar") {
		return goMssqldbUCS2(s)
	}
	return v
}

// compareBulkRow converts rows with ConvertFields and with a BulkRow:
// the same errors, and values go-mssqldb sends as the same bytes.
func compareBulkRow(t *testing.T, label string, tbl *Table, rows [][]pgdump.Field) {
	t.Helper()
	conv := tbl.NewBulkRow()
	want := make([]any, len(tbl.Columns))
	for r, row := range rows {
		wantErr := tbl.ConvertFields(want, row)
		got, err := conv.Convert(row)
		if errorText(err) != errorText(wantErr) || exitcode.Of(err) != exitcode.Of(wantErr) {
			t.Errorf("%s: row %d: BulkRow error %v, ConvertFields %v", label, r, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		for i := range tbl.Columns {
			if w := bulkValueOf(&tbl.Columns[i], want[i]); !sameConverted(got[i], w) {
				t.Errorf("%s: row %d column %s: BulkRow %#v, want %#v (ConvertFields %#v)", label, r, tbl.Columns[i].Name, got[i], w, want[i])
			}
		}
	}
}

func TestBulkRow(t *testing.T) {
	m, err := Parse(strings.NewReader(`{
		"columns": {
			"t.short": {"to": "nvarchar(3)"},
			"t.clamped": {"to": "nvarchar(3)", "onInvalid": "clamp"},
			"t.nulled": {"to": "nvarchar(3)", "onInvalid": "null"},
			"t.fixed": {"to": "nchar(2)", "onInvalid": "clamp"},
			"t.flag": {"to": "nvarchar(5)"},
			"t.data": {"to": "nvarchar(max)"},
			"t.addr": {"to": "nvarchar(50)"},
			"t.ascii": {"to": "varchar(4)", "onInvalid": "null"}
		}}`))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := m.Table(&pgcatalog.Table{
		Name: "t",
		Columns: []pgcatalog.Column{
			{Name: "id", Type: tBigint, NotNull: true}, {Name: "name", Type: tText}, {Name: "short", Type: tText},
			{Name: "clamped", Type: tText}, {Name: "nulled", Type: tText}, {Name: "fixed", Type: tChar3},
			{Name: "flag", Type: tBool}, {Name: "data", Type: tBytea}, {Name: "addr", Type: tInet},
			{Name: "ascii", Type: tText}, {Name: "total", Type: tNumeric288}, {Name: "at", Type: tTimestamp},
		},
		PrimaryKey: &pgcatalog.Constraint{Name: "pk", Columns: []string{"id"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]pgdump.Field{
		fields("1", "Bob", "abc", "abc", "abc", "ab", "t", `\x00ff`, "10.0.0.1", "abcd", "1.5", "2024-01-02 03:04:05"),
		fields("2", "", "", "", "", "", "f", `\000\377`, "::1", "", "0", "0001-01-01 00:00:00"),
		fields("3", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>"),
		// Non-ASCII within and beyond the limits, counted in UTF-16 units.
		fields("4", "😀 𝄞 é", "é€", "ab😀", "abcd", "é😀", "t", `\x`, "10.0.0.0/8", "abcde", "-1", "<NULL>"),
		fields("5", "x", "ééé", "éééé", "😀😀", "😀", "f", `\x41`, "<NULL>", "é", "2", "<NULL>"),
		// Invalid UTF-8: clamped to U+FFFD, nulled, or an error.
		fields("6", "x", "a", "a\xffb", "\xff", "\xff\xfe", "t", `\x`, "<NULL>", "a", "3", "<NULL>"),
		fields("7", "bad \xff", "a", "a", "a", "a", "t", `\x`, "<NULL>", "a", "4", "<NULL>"),
		// Misfits that are errors, and text that is not the type's.
		fields("8", "x", "abcd", "a", "a", "a", "t", `\x`, "<NULL>", "a", "5", "<NULL>"),
		fields("9", "x", "ab😀", "a", "a", "a", "t", `\x`, "<NULL>", "a", "6", "<NULL>"),
		fields("10", "x", "a", "a", "a", "a", "maybe", `\x`, "<NULL>", "a", "7", "<NULL>"),
		fields("11", "x", "a", "a", "a", "a", "t", `\xZZ`, "<NULL>", "a", "8", "<NULL>"),
		fields("12", "x", "a", "a", "a", "a", "t", `\x`, "<NULL>", "a", "x", "<NULL>"),
		fields("13", "x", "a", "a", "a", "a", "t", `\x`, "<NULL>", "a", "9", "infinity"),
		fields("14"),
	}
	compareBulkRow(t, "rules", tbl, rows)

	// Spot checks of what the comparison stands on.
	conv := tbl.NewBulkRow()
	got, err := conv.Convert(rows[1])
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := got[1].([]byte); !ok || b == nil || len(b) != 0 {
		t.Errorf("empty text gives %#v, want an empty, non-nil []byte (nil is NULL to the bulk copy)", got[1])
	}
	got, err = conv.Convert(rows[3])
	if err != nil {
		t.Fatal(err)
	}
	if want := goMssqldbUCS2("ab"); !bytes.Equal(got[3].([]byte), want) {
		t.Errorf("clamped ab😀 gives % x, want % x", got[3], want)
	}
	if got[4] != nil {
		t.Errorf("abcd nulled gives %#v, want nil", got[4])
	}
	_, err = conv.Convert(rows[6])
	var ve *ValueError
	var mf *Misfit
	if !errors.As(err, &ve) || !errors.As(err, &mf) || ve.Column != "name" || exitcode.Of(err) != exitcode.BadInput {
		t.Errorf("invalid UTF-8 under no rule gives %v, want a BadInput misfit of column name", err)
	}
}

// TestBulkRowMatchesConvertFields runs the every-type mapping's rows of
// TestConvertFields through both converters.
func TestBulkRowMatchesConvertFields(t *testing.T) {
	tbl := everyTypeMapping(t)
	compareBulkRow(t, "every type", tbl, [][]pgdump.Field{
		fields("7", "2024-01-01 05:30:00+05:30", `\N`, "<NULL>", "<NULL>", "<NULL>"),
		fields("42", "2024-01-01 05:30:00.5+05:30", "x", "1.00000000", "<NULL>", "infinity"),
		fields("42", "2024-01-01 05:30:00.5+05:30", "x", "1.00000000", "1e5", "<NULL>"),
		fields("43", "2024-01-01 05:30:00+05:30", "😀\xff", "1.00000000", "12345678901234567890123456789.5", "<NULL>"),
	})
}

// TestBulkRowAllocations: a row of NULLs and small integers converts
// without allocating, and a text value costs only its interface.
func TestBulkRowAllocations(t *testing.T) {
	tbl := everyTypeMapping(t)
	conv := tbl.NewBulkRow()
	for _, tc := range []struct {
		row  []pgdump.Field
		want float64
	}{
		{fields("7", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>"), 0},
		{fields("7", "<NULL>", "some text, é and 😀", "<NULL>", "<NULL>", "<NULL>"), 1},
	} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := conv.Convert(tc.row); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != tc.want {
			t.Errorf("%v allocations a row, want %v", allocs, tc.want)
		}
	}
}

// BenchmarkBulkRow converts BenchmarkConvertFields's row.
func BenchmarkBulkRow(b *testing.B) {
	tbl, row := benchmarkRow(b)
	conv := tbl.NewBulkRow()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conv.Convert(row); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendUTF16LE encodes a Mendix-like name and a longer text.
func BenchmarkAppendUTF16LE(b *testing.B) {
	for _, tc := range []struct{ name, text string }{
		{"short ascii", "Order 123456"},
		{"long ascii", strings.Repeat("some notes about the order ", 10)},
		{"latin", "Émile Zola, Straße 5, København"},
	} {
		in := []byte(tc.text)
		buf := make([]byte, 0, 4*len(in))
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				buf = appendUTF16LE(buf[:0], in)
			}
		})
	}
}
