package canon

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"
)

var (
	plus14  = time.FixedZone("+14", 14*3600)
	minus12 = time.FixedZone("-12", -12*3600)
	plus2   = time.FixedZone("+02", 2*3600)
)

// canonicalPairs are the same value twice: as the dump's COPY text and as
// a target's driver returns it. Both must give want.
var canonicalPairs = []struct {
	typ   string
	text  string
	value any
	want  string
}{
	{"bigint", "42", int64(42), "42"},
	{"bigint", "-9223372036854775808", int64(math.MinInt64), "-9223372036854775808"},
	{"bigint", "9223372036854775807", int64(math.MaxInt64), "9223372036854775807"},
	{"integer", "-2147483648", int32(math.MinInt32), "-2147483648"},
	{"smallint", "32767", int64(32767), "32767"},
	{"smallint", "0", int16(0), "0"},

	{"numeric(28,8)", "99999999999999999999.99999999", "99999999999999999999.99999999", "99999999999999999999.99999999"},
	{"numeric(28,8)", "-99999999999999999999.99999999", []byte("-99999999999999999999.99999999"), "-99999999999999999999.99999999"},
	{"numeric(28,8)", "0.00000001", "0.00000001", "0.00000001"},
	{"numeric(28,8)", "1.5", "1.50000000", "1.5"},
	{"numeric(28,8)", "1.50000000", []byte("1.50000000"), "1.5"},
	{"numeric(28,8)", "100", "100.00000000", "100"},
	{"numeric(28,8)", "0", "0.00000000", "0"},
	{"numeric(28,8)", "0.00000000", "-0.00000000", "0"},
	{"numeric(28,8)", "-0.5", "-0.50000000", "-0.5"},
	{"numeric", "7", int64(7), "7"},
	{"numeric", "1.25", 1.25, "1.25"},
	{"numeric", "NaN", "NaN", "NaN"},
	{"numeric", "Infinity", math.Inf(1), "Infinity"},
	{"numeric", "-Infinity", "-Infinity", "-Infinity"},

	{"boolean", "t", true, "true"},
	{"boolean", "f", false, "false"},
	{"boolean", "t", int64(1), "true"},

	{"double precision", "0.0015", 0.0015, "0.0015"},
	{"double precision", "1e+308", 1e308, "1e+308"},
	{"double precision", "-1e-300", -1e-300, "-1e-300"},
	{"double precision", "0", 0.0, "0"},
	{"double precision", "-0", math.Copysign(0, -1), "-0"},
	{"double precision", "Infinity", math.Inf(1), "Infinity"},
	{"double precision", "-Infinity", math.Inf(-1), "-Infinity"},
	{"double precision", "NaN", math.NaN(), "NaN"},
	{"real", "0.1", float32(0.1), "0.1"},
	{"real", "0.1", float64(float32(0.1)), "0.1"}, // SQL Server's drivers widen real
	{"real", "3.4028235e+38", float32(math.MaxFloat32), "3.4028235e+38"},
	{"real", "1e-45", float32(math.SmallestNonzeroFloat32), "1e-45"},
	{"real", "-Infinity", float32(math.Inf(-1)), "-Infinity"},

	{"timestamp without time zone", "2020-01-01 00:00:01.000002", time.Date(2020, 1, 1, 0, 0, 1, 2000, time.UTC), "2020-01-01T00:00:01.000002"},
	{"timestamp without time zone", "0001-01-01 00:00:00", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01T00:00:00.000000"},
	{"timestamp without time zone", "9999-12-31 23:59:59.999999", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "9999-12-31T23:59:59.999999"},
	{"timestamp without time zone", "1999-12-31 23:59:59.5", time.Date(1999, 12, 31, 23, 59, 59, 500000000, time.UTC), "1999-12-31T23:59:59.500000"},
	{"timestamp without time zone", "2020-01-01 12:00:00", time.Date(2020, 1, 1, 12, 0, 0, 0, plus14), "2020-01-01T12:00:00.000000"},
	{"timestamp without time zone", "2020-01-01 12:00:00.123456", time.Date(2020, 1, 1, 12, 0, 0, 123456789, time.UTC), "2020-01-01T12:00:00.123456"},
	{"timestamp without time zone", "0044-03-15 10:00:00 BC", time.Date(-43, 3, 15, 10, 0, 0, 0, time.UTC), "0044-03-15T10:00:00.000000 BC"},
	{"timestamp without time zone", "12345-06-07 08:09:10", time.Date(12345, 6, 7, 8, 9, 10, 0, time.UTC), "12345-06-07T08:09:10.000000"},
	{"timestamp(3) without time zone", "2024-02-29 23:59:59.999", time.Date(2024, 2, 29, 23, 59, 59, 999000000, time.UTC), "2024-02-29T23:59:59.999000"},
	{"timestamp without time zone", "infinity", "infinity", "infinity"},
	{"timestamp without time zone", "-infinity", "-infinity", "-infinity"},

	{"timestamp with time zone", "2021-06-30 22:00:59.999999+00", time.Date(2021, 6, 30, 22, 0, 59, 999999000, time.UTC), "2021-06-30T22:00:59.999999Z"},
	{"timestamp with time zone", "2000-01-01 00:00:00.000001+14", time.Date(2000, 1, 1, 0, 0, 0, 1000, plus14), "1999-12-31T10:00:00.000001Z"},
	{"timestamp with time zone", "1999-12-31 12:00:00-12", time.Date(1999, 12, 31, 12, 0, 0, 0, minus12), "2000-01-01T00:00:00.000000Z"},
	{"timestamp with time zone", "2021-06-30 23:59:59.999999+05:30", time.Date(2021, 6, 30, 18, 29, 59, 999999000, time.UTC), "2021-06-30T18:29:59.999999Z"},
	{"timestamp with time zone", "1890-01-01 00:00:00+00:19:32", time.Date(1889, 12, 31, 23, 40, 28, 0, time.UTC), "1889-12-31T23:40:28.000000Z"},
	{"timestamp with time zone", "0001-01-01 00:00:00+00", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01T00:00:00.000000Z"},
	{"timestamp with time zone", "0001-01-01 00:00:00+01", time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("", 3600)), "0001-12-31T23:00:00.000000Z BC"},
	{"timestamp with time zone", "0044-03-15 10:00:00+00 BC", time.Date(-43, 3, 15, 10, 0, 0, 0, time.UTC), "0044-03-15T10:00:00.000000Z BC"},
	{"timestamp with time zone", "9999-12-31 23:59:59.999999+00", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "9999-12-31T23:59:59.999999Z"},
	{"timestamptz", "2021-06-30 23:59:59.999999+02", time.Date(2021, 6, 30, 23, 59, 59, 999999000, plus2), "2021-06-30T21:59:59.999999Z"},
	{"timestamp with time zone", "infinity", "infinity", "infinity"},

	{"date", "2006-01-02", time.Date(2006, 1, 2, 0, 0, 0, 0, time.UTC), "2006-01-02"},
	{"date", "0001-01-01", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01"},
	{"date", "9999-12-31", time.Date(9999, 12, 31, 0, 0, 0, 0, plus14), "9999-12-31"},
	{"date", "0044-03-15 BC", time.Date(-43, 3, 15, 0, 0, 0, 0, time.UTC), "0044-03-15 BC"},
	{"date", "-infinity", "-infinity", "-infinity"},

	{"time without time zone", "15:04:05", time.Date(1, 1, 1, 15, 4, 5, 0, time.UTC), "15:04:05.000000"},
	{"time without time zone", "23:59:59.999999", 24*time.Hour - time.Microsecond, "23:59:59.999999"},
	{"time without time zone", "24:00:00", 24 * time.Hour, "24:00:00.000000"},
	{"time without time zone", "00:00:00", time.Duration(0), "00:00:00.000000"},
	{"time(3) without time zone", "12:00:00.5", "12:00:00.5000000", "12:00:00.500000"},
	{"time with time zone", "15:04:05+02", time.Date(1, 1, 1, 15, 4, 5, 0, plus2), "15:04:05.000000+02:00:00"},
	{"time with time zone", "15:04:05.5-05:30", "15:04:05.500-05:30", "15:04:05.500000-05:30:00"},

	{"bytea", `\x00ff00`, []byte{0, 0xff, 0}, "00ff00"},
	{"bytea", `\x`, []byte{}, ""},
	{"bytea", `\x0A0b`, []byte{10, 11}, "0a0b"},
	{"bytea", `a\000\\b`, []byte("a\x00\\b"), "61005c62"}, // escape format
	{"bytea", `\377\001`, []byte{0xff, 1}, "ff01"},
	{"bytea", "", []byte(nil), ""},

	{"uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{"uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{"uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{"uuid", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},

	{"character varying(200)", "", "", ""},
	{"character varying(200)", "trailing space ", "trailing space ", "trailing space "},
	{"text", "😀 𝄞 emoji and music beyond the BMP", "😀 𝄞 emoji and music beyond the BMP", "😀 𝄞 emoji and music beyond the BMP"},
	{"text", "tab\there\nnewline\\backslash", []byte("tab\there\nnewline\\backslash"), "tab\there\nnewline\\backslash"},
	{"text", `\N`, `\N`, `\N`},
	{"jsonb", `{"a": [1, 2.50]}`, `{"a": [1, 2.50]}`, `{"a": [1, 2.50]}`},
	{"integer[]", "{1,2,NULL}", "{1,2,NULL}", "{1,2,NULL}"},
	{`"char"`, "x", "x", "x"},
}

func TestCanonicalPairs(t *testing.T) {
	for _, c := range canonicalPairs {
		fromText, err := Text(c.typ, []byte(c.text))
		if err != nil {
			t.Errorf("Text(%q, %q): %v", c.typ, c.text, err)
		} else if fromText != c.want {
			t.Errorf("Text(%q, %q) = %q, want %q", c.typ, c.text, fromText, c.want)
		}
		fromValue, err := Value(c.typ, c.value)
		if err != nil {
			t.Errorf("Value(%q, %#v): %v", c.typ, c.value, err)
		} else if fromValue != c.want {
			t.Errorf("Value(%q, %#v) = %q, want %q", c.typ, c.value, fromValue, c.want)
		}
	}
}

// TestCanonicalTextOnly covers spellings only text has.
func TestCanonicalTextOnly(t *testing.T) {
	cases := []struct{ typ, text, want string }{
		{"numeric", "-0", "0"},
		{"numeric", ".5", "0.5"},
		{"numeric", "5.", "5"},
		{"numeric", "+007.250", "7.25"},
		{"numeric", "-000.000100", "-0.0001"},
		{"bigint", "+5", "5"},
		{"bigint", "-0", "0"},
		{"boolean", "true", "true"},
		{"boolean", "FALSE", "false"},
		{"real", "1e+30", "1e+30"},
		{"double precision", "1.0", "1"},
		{"double precision", "12345678901234567890", "1.2345678901234567e+19"},
		{"timestamp without time zone", "2020-01-01T00:00:00.1234567", "2020-01-01T00:00:00.123456"},
		{"timestamp with time zone", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000000Z"},
		{"timestamp with time zone", "2020-01-01 00:00:00-03:30", "2020-01-01T03:30:00.000000Z"},
		{"time without time zone", "00:00:00.000001", "00:00:00.000001"},
		{"uuid", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"some_schema.mytype", "anything at all", "anything at all"},
	}
	for _, c := range cases {
		got, err := Text(c.typ, []byte(c.text))
		if err != nil || got != c.want {
			t.Errorf("Text(%q, %q) = %q, %v; want %q", c.typ, c.text, got, err, c.want)
		}
	}
}

// TestCanonicalValueOnly covers Go values that have no text twin.
func TestCanonicalValueOnly(t *testing.T) {
	cases := []struct {
		typ   string
		value any
		want  string
	}{
		// A float32 in a double column shows its rounding, not hides it.
		{"double precision", float32(0.1), "0.10000000149011612"},
		{"numeric(28,8)", float64(0.1), "0.1"},
		{"numeric", uint8(255), "255"},
		{"boolean", int64(0), "false"},
		{"bigint", uint32(4000000000), "4000000000"},
		{"timestamp with time zone", time.Date(2020, 1, 1, 0, 0, 0, 999, plus14), "2019-12-31T10:00:00.000000Z"},
		{"time without time zone", time.Date(-5, 1, 1, 1, 2, 3, 0, time.UTC), "01:02:03.000000"},
		{"bytea", `\x41`, "41"},        // a string is bytea text, hex format here
		{"bytea", `\\x41`, "5c783431"}, // and escape format here
	}
	for _, c := range cases {
		got, err := Value(c.typ, c.value)
		if err != nil || got != c.want {
			t.Errorf("Value(%q, %#v) = %q, %v; want %q", c.typ, c.value, got, err, c.want)
		}
	}
}

func TestCanonicalTextRejects(t *testing.T) {
	cases := []struct{ typ, text string }{
		{"bigint", ""},
		{"bigint", "12a"},
		{"bigint", "9223372036854775808"},
		{"bigint", "-9223372036854775809"},
		{"integer", "1.0"},
		{"numeric", ""},
		{"numeric", "."},
		{"numeric", "-"},
		{"numeric", "1.2.3"},
		{"numeric", "1e5"},
		{"numeric", "abc"},
		{"boolean", "maybe"},
		{"double precision", "one"},
		{"real", "1e+39"},
		{"timestamp without time zone", "2020-13-01 00:00:00"},
		{"timestamp without time zone", "2020-01-01"},
		{"timestamp without time zone", "2020-01-01 24:00:00"},
		{"timestamp without time zone", "2020-01-01 00:00:00+00"},
		{"timestamp without time zone", "2020-01-01 00:00:00 BC BC"},
		{"timestamp without time zone", "20-01-01 00:00:00"},
		{"timestamp with time zone", "2020-01-01 00:00:00"},
		{"timestamp with time zone", "2020-01-01 00:00:00+16"},
		{"date", "2020-01-01 00:00:00"},
		{"date", "2020-00-10"},
		{"time without time zone", "25:00:00"},
		{"time without time zone", "24:00:00.000001"},
		{"time without time zone", "12:60:00"},
		{"time without time zone", "12:00:00.1234567890"},
		{"time with time zone", "12:00:00"},
		{"bytea", `\x0`},
		{"bytea", `\xzz`},
		{"bytea", `\9`},
		{"bytea", `ab\`},
		{"uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"},
		{"uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111"},
		{"uuid", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"uuid", "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	}
	for _, c := range cases {
		if got, err := Text(c.typ, []byte(c.text)); err == nil {
			t.Errorf("Text(%q, %q) = %q, want an error", c.typ, c.text, got)
		}
	}
}

func TestCanonicalValueRejects(t *testing.T) {
	cases := []struct {
		typ   string
		value any
	}{
		{"uuid", make([]byte, 16)}, // byte order unknown: SQL Server's is mixed-endian
		{"bigint", 1.5},
		{"bigint", uint64(math.MaxUint64)},
		{"boolean", int64(2)},
		{"text", int64(1)},
		{"text", time.Now()},
		{"jsonb", map[string]any{"a": 1}},
		{"timestamp without time zone", int64(0)},
		{"time without time zone", -time.Second},
		{"time without time zone", 25 * time.Hour},
		{"real", int64(1)},
		{"numeric", true},
		{"bytea", 42},
	}
	for _, c := range cases {
		if got, err := Value(c.typ, c.value); err == nil {
			t.Errorf("Value(%q, %#v) = %q, want an error", c.typ, c.value, got)
		}
	}
}

// TestNullIsNotEmpty checks that NULL has no canonical form of its own,
// so that it cannot be mistaken for the empty string.
func TestNullIsNotEmpty(t *testing.T) {
	for _, typ := range []string{"text", "bytea", "bigint", "numeric(28,8)", "timestamp without time zone", "uuid"} {
		if _, err := Value(typ, nil); !errors.Is(err, ErrNull) {
			t.Errorf("Value(%q, nil): error %v, want ErrNull", typ, err)
		}
	}
	if got, err := Value("text", ""); err != nil || got != "" {
		t.Errorf(`Value("text", "") = %q, %v; want "", nil`, got, err)
	}
}

func TestKindOf(t *testing.T) {
	cases := []struct {
		typ  string
		want Kind
	}{
		{"bigint", KindInt},
		{"pg_catalog.int8", KindInt},
		{"numeric(28,8)", KindNumeric},
		{"NUMERIC", KindNumeric},
		{"character varying(200)", KindText},
		{"timestamp(6) without time zone", KindTimestamp},
		{"timestamp with time zone", KindTimestamptz},
		{"time(3) with time zone", KindTimetz},
		{"double precision", KindFloat8},
		{"real", KindFloat4},
		{"bytea", KindBytea},
		{"uuid", KindUUID},
		{"integer[]", KindText},
		{"timestamp without time zone[]", KindText},
		{"public.mytype", KindText},
	}
	for _, c := range cases {
		if got := KindOf(c.typ); got != c.want {
			t.Errorf("KindOf(%q) = %s, want %s", c.typ, got, c.want)
		}
	}
}

// BenchmarkCanonicalText measures the allocation-free path rowdiff.Compare
// takes for the dump's values, over a typical row of Mendix types.
func BenchmarkCanonicalText(b *testing.B) {
	row := []struct {
		k    Kind
		text []byte
	}{
		{KindInt, []byte("1234567")},
		{KindText, []byte("Order 1234567")},
		{KindNumeric, []byte("8042.45678000")},
		{KindBool, []byte("t")},
		{KindFloat8, []byte("0.0015")},
		{KindTimestamp, []byte("2020-01-01 00:00:01.000002")},
		{KindTimestamptz, []byte("2021-06-30 22:00:59.999999+02")},
		{KindBytea, []byte(`\x00ff00ff00ff00ff`)},
		{KindUUID, []byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
	}
	size := 0
	for _, v := range row {
		size += len(v.text)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		dst = dst[:0]
		for _, v := range row {
			var err error
			if dst, err = AppendText(dst, v.k, v.text); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// fastPathInputs are texts for the shortcuts COPY's usual spellings take,
// and for the near misses that must go the long way.
var fastPathInputs = []string{
	"0", "-0", "+5", "007", "42", "-42", "123456789012345678", "1234567890123456789", "-9223372036854775808", "", "-", "1a",
	"2020-01-01", "2020-01-01 00:00:00", "2020-01-01T00:00:00", "2020-01-01 23:59:59.999999", "2020-01-01 23:59:59.9999999",
	"2020-01-01 00:00:00.5", "2020-01-01 00:00:00.", "2020-01-01 00:00:00+00", "2020-01-01 00:00:00.25+00", "2020-01-01 00:00:00Z",
	"2020-01-01 00:00:00+00:00", "2020-01-01 00:00:00+00:00:00", "2020-01-01 00:00:00-00", "2020-01-01 00:00:00+02",
	"2020-01-01 00:00:00 BC", "0044-03-15 BC", "0000-01-01", "0000-01-01 00:00:00", "10000-01-01", "2020-13-01", "2020-02-31",
	"2020-01-32 00:00:00", "2020-01-01 24:00:00", "2020-01-01 12:60:00", "2020-01-01 12:00:60", "2020-01-01 1:00:00",
	"2020-01-01  00:00:00", "2020-1-01", "2020/01/01", "infinity", "-infinity", "2020-01-01 00:00:00+00 BC",
}

// TestFastPathsAgree checks that the shortcuts for the usual spellings of
// integers, dates and timestamps give what parsing them gives.
func TestFastPathsAgree(t *testing.T) {
	for _, text := range fastPathInputs {
		checkFastPaths(t, []byte(text))
	}
}

func FuzzFastPathsAgree(f *testing.F) {
	for _, text := range fastPathInputs {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) { checkFastPaths(t, []byte(text)) })
}

func checkFastPaths(t *testing.T, text []byte) {
	t.Helper()
	if isCanonicalInt(text) {
		n, ok := parseInt64(text)
		if got := string(strconv.AppendInt(nil, n, 10)); !ok || got != string(text) {
			t.Errorf("%q is taken as a canonical integer, but parses to %q, %v", text, got, ok)
		}
	}
	for _, k := range []Kind{KindTimestamp, KindTimestamptz, KindDate} {
		fast, ok := appendPlainDateTime(nil, k, text)
		if !ok {
			continue
		}
		parsed, parsedOK := appendParsedDateTime(nil, k, text)
		if !parsedOK || string(parsed) != string(fast) {
			t.Errorf("%s %q: shortcut %q, parsed %q (ok %v)", k, text, fast, parsed, parsedOK)
		}
	}
}

// TestTimestampShortcut checks appendTimestamp, which writes the usual
// timestamps digit by digit, against the time package's formatting.
func TestTimestampShortcut(t *testing.T) {
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2020, 2, 29, 1, 2, 3, 40500, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	for i := range 1000 {
		times = append(times, time.Unix(int64(i)*7919*86413+int64(i*i), int64(i)*1000003%1e9).UTC())
	}
	for _, tm := range times {
		want := tm.Format("2006-01-02T15:04:05.000000")
		got, err := Value("timestamp", tm)
		if err != nil || got != want {
			t.Errorf("Value(timestamp, %v) = %q, %v; want %q", tm, got, err, want)
		}
		got, err = Value("timestamptz", tm)
		if err != nil || got != want+"Z" {
			t.Errorf("Value(timestamptz, %v) = %q, %v; want %q", tm, got, err, want+"Z")
		}
	}
}
