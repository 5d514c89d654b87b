package pgtext

import (
	"bytes"
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, us int) time.Time {
		return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC)
	}
	cases := []struct {
		text   string
		layout Layout
		s      Strictness
		want   time.Time // zero: refused
		inf    int
	}{
		{"2024-02-29", Date, Exact, utc(2024, 2, 29, 0, 0, 0, 0), 0},
		{"2023-02-29", Date, Exact, time.Time{}, 0},
		{"1900-02-29", Date, Exact, time.Time{}, 0},
		{"2000-02-29", Date, Exact, utc(2000, 2, 29, 0, 0, 0, 0), 0},
		{"0044-03-15 BC", Date, Exact, utc(-43, 3, 15, 0, 0, 0, 0), 0},
		{"12345-06-07", Date, Exact, utc(12345, 6, 7, 0, 0, 0, 0), 0},
		{"123456789-06-07", Date, Exact, time.Time{}, 0},
		{"0000-01-01", Date, Exact, time.Time{}, 0},
		{"infinity", Timestamp, Exact, time.Time{}, 1},
		{"-infinity", TimestampTZ, Exact, time.Time{}, -1},
		{"2020-01-01 12:30:45.5", Timestamp, Exact, utc(2020, 1, 1, 12, 30, 45, 500000), 0},
		{"2020-01-01 24:00:00", Timestamp, Exact, time.Time{}, 0},
		{"2020-01-01T12:30:45", Timestamp, Exact, time.Time{}, 0},
		{"2020-01-01T12:30:45", Timestamp, Lenient, utc(2020, 1, 1, 12, 30, 45, 0), 0},
		{"2020-01-01 12:30:45.1234567", Timestamp, Exact, time.Time{}, 0},
		{"2020-01-01 12:30:45.1234567", Timestamp, Lenient, utc(2020, 1, 1, 12, 30, 45, 123456), 0},
		{"2020-01-01 12:30:45+00", Timestamp, Exact, time.Time{}, 0},
		{"2020-01-01 12:30:45+05:30", TimestampTZ, Exact, utc(2020, 1, 1, 7, 0, 45, 0), 0},
		{"1890-01-01 00:00:00+00:19:32", TimestampTZ, Exact, utc(1889, 12, 31, 23, 40, 28, 0), 0},
		{"2020-01-01 00:00:00+16", TimestampTZ, Exact, time.Time{}, 0},
		{"2020-01-01 00:00:00Z", TimestampTZ, Exact, time.Time{}, 0},
		{"2020-01-01 00:00:00Z", TimestampTZ, Lenient, utc(2020, 1, 1, 0, 0, 0, 0), 0},
		{"2020-01-01 00:00:00", TimestampTZ, Lenient, time.Time{}, 0},
		{"0044-03-15 10:00:00+00 BC", TimestampTZ, Exact, utc(-43, 3, 15, 10, 0, 0, 0), 0},
		{"0044-03-15 10:00:00 BC BC", Timestamp, Exact, time.Time{}, 0},
	}
	for _, c := range cases {
		d, ok := ParseDateTime([]byte(c.text), c.layout, c.s)
		switch {
		case c.inf != 0:
			if !ok || d.Inf != c.inf {
				t.Errorf("ParseDateTime(%q) = %+v, %v; want infinity %d", c.text, d, ok, c.inf)
			}
		case c.want.IsZero():
			if ok {
				t.Errorf("ParseDateTime(%q, %d, %v) = %v, want refused", c.text, c.layout, c.s, d.Time())
			}
		case !ok || !d.Time().Equal(c.want):
			t.Errorf("ParseDateTime(%q, %d, %v) = %v, %v; want %v", c.text, c.layout, c.s, d.Time(), ok, c.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	cases := []struct {
		text     string
		withZone bool
		s        Strictness
		micros   int64 // -1: refused
		zone     int
	}{
		{"00:00:00", false, Exact, 0, 0},
		{"24:00:00", false, Exact, 24 * 3600e6, 0},
		{"24:00:00.000001", false, Exact, -1, 0},
		{"23:59:59.999999", false, Exact, 24*3600e6 - 1, 0},
		{"12:60:00", false, Exact, -1, 0},
		{"12:00:00.5000000", false, Exact, -1, 0},
		{"12:00:00.5000000", false, Lenient, 12*3600e6 + 500000, 0},
		{"12:00:00.1234567890", false, Lenient, -1, 0},
		{"15:04:05-05:30", true, Exact, (15*3600 + 4*60 + 5) * 1e6, -(5*3600 + 30*60)},
		{"15:04:05", true, Exact, -1, 0},
		{"15:04:05+02", false, Exact, -1, 0},
	}
	for _, c := range cases {
		parse := ParseTime
		if c.withZone {
			parse = ParseTimeTZ
		}
		d, ok := parse([]byte(c.text), c.s)
		switch {
		case c.micros < 0:
			if ok {
				t.Errorf("parse(%q) = %+v, want refused", c.text, d)
			}
		case !ok || d.Micros() != c.micros || d.Zone != c.zone:
			t.Errorf("parse(%q) = %d µs zone %d, %v; want %d µs zone %d", c.text, d.Micros(), d.Zone, ok, c.micros, c.zone)
		}
	}
}

func TestBytea(t *testing.T) {
	cases := []struct {
		text string
		want []byte // nil: refused
	}{
		{`\x`, []byte{}},
		{`\x00ff0A`, []byte{0, 0xff, 0x0a}},
		{`\x0`, nil},
		{`\xzz`, nil},
		{"", []byte{}},
		{`a\000\\b`, []byte("a\x00\\b")},
		{`\377\001`, []byte{0xff, 1}},
		{`\400`, nil},
		{`\9`, nil},
		{`ab\`, nil},
	}
	for _, c := range cases {
		got, ok := DecodeBytea([]byte(c.text))
		if c.want == nil {
			if ok {
				t.Errorf("DecodeBytea(%q) = %x, want refused", c.text, got)
			}
			continue
		}
		if !ok || !bytes.Equal(got, c.want) || got == nil || cap(got) != len(c.want) {
			t.Errorf("DecodeBytea(%q) = %x (cap %d), %v; want %x, exactly sized", c.text, got, cap(got), ok, c.want)
		}
		if appended, ok := AppendBytea([]byte("prefix"), []byte(c.text)); !ok || string(appended) != "prefix"+string(c.want) {
			t.Errorf("AppendBytea(prefix, %q) = %q, %v", c.text, appended, ok)
		}
	}
}

func TestParseNumeric(t *testing.T) {
	cases := []struct {
		text  string
		small int64
		big   string
		exp   int
		ok    bool
	}{
		{"1.50", 150, "", -2, true},
		{"-0.001", -1, "", -3, true},
		{"1234567890123456789.5", 0, "12345678901234567895", -1, true},
		{"+1", 0, "", 0, false},
		{".5", 0, "", 0, false},
		{"5.", 0, "", 0, false},
		{"1e5", 0, "", 0, false},
	}
	for _, c := range cases {
		n, ok := ParseNumeric([]byte(c.text))
		switch {
		case ok != c.ok:
			t.Errorf("ParseNumeric(%q) ok = %v, want %v", c.text, ok, c.ok)
		case !ok:
		case c.big != "" && (n.Big == nil || n.Big.String() != c.big || n.Exp != c.exp):
			t.Errorf("ParseNumeric(%q) = %v×10^%d, want %s×10^%d", c.text, n.Big, n.Exp, c.big, c.exp)
		case c.big == "" && (n.Big != nil || n.Small != c.small || n.Exp != c.exp):
			t.Errorf("ParseNumeric(%q) = %d×10^%d, want %d×10^%d", c.text, n.Small, n.Exp, c.small, c.exp)
		}
	}
}

func TestParseIntBoolUUID(t *testing.T) {
	if n, ok := ParseInt([]byte("-9223372036854775808")); !ok || n != -1<<63 {
		t.Errorf("ParseInt(min) = %d, %v", n, ok)
	}
	for _, bad := range []string{"", "-", "+1", "9223372036854775808", "1.0", " 1"} {
		if n, ok := ParseInt([]byte(bad)); ok {
			t.Errorf("ParseInt(%q) = %d, want refused", bad, n)
		}
	}
	if b, ok := ParseBool([]byte("t")); !ok || !b {
		t.Error(`ParseBool("t") is not true`)
	}
	if _, ok := ParseBool([]byte("true")); ok {
		t.Error(`ParseBool("true") is accepted; boolout writes t`)
	}
	u, ok := ParseUUID([]byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
	if !ok || u[0] != 0xa0 || u[15] != 0x11 {
		t.Errorf("ParseUUID = %x, %v", u, ok)
	}
	if _, ok := ParseUUID([]byte("a0eebc999c0b4ef8bb6d6bb9bd380a11")); ok {
		t.Error("ParseUUID accepts a uuid without hyphens; uuid_out writes them")
	}
}
