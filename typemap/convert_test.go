package typemap

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func num(t testing.TB, s string) pgtype.Numeric {
	t.Helper()
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		t.Fatalf("numeric %q: %v", s, err)
	}
	return n
}

// column maps one column of source type typ with an optional rule.
func column(t testing.TB, typ pgcatalog.Type, to string, action Action) Column {
	t.Helper()
	m := New()
	if to != "" || action != "" {
		rule := Rule{OnInvalid: action}
		if to != "" {
			tg, err := ParseTarget(to)
			if err != nil {
				t.Fatal(err)
			}
			rule.To = &tg
		}
		m.columns["t.c"] = rule
	}
	c, err := m.Column("t", pgcatalog.Column{Name: "c", Type: typ})
	if err != nil {
		t.Fatalf("%s to %q: %v", typ.Text, to, err)
	}
	return c
}

var (
	tBigint      = pgType("bigint", "bigint", -1, -1, -1)
	tInteger     = pgType("integer", "integer", -1, -1, -1)
	tSmallint    = pgType("smallint", "smallint", -1, -1, -1)
	tNumeric288  = pgType("numeric(28,8)", "numeric", -1, 28, 8)
	tNumeric     = pgType("numeric", "numeric", -1, -1, -1)
	tBool        = pgType("boolean", "boolean", -1, -1, -1)
	tVarchar5    = pgType("character varying(5)", "character varying", 5, -1, -1)
	tText        = pgType("text", "text", -1, -1, -1)
	tChar3       = pgType("character(3)", "character", 3, -1, -1)
	tTimestamp   = pgType("timestamp without time zone", "timestamp without time zone", -1, -1, -1)
	tTimestamptz = pgType("timestamp with time zone", "timestamp with time zone", -1, -1, -1)
	tDate        = pgType("date", "date", -1, -1, -1)
	tTime        = pgType("time without time zone", "time without time zone", -1, -1, -1)
	tBytea       = pgType("bytea", "bytea", -1, -1, -1)
	tUUID        = pgType("uuid", "uuid", -1, -1, -1)
	tFloat8      = pgType("double precision", "double precision", -1, -1, -1)
	tFloat4      = pgType("real", "real", -1, -1, -1)
	tJSONB       = pgType("jsonb", "jsonb", -1, -1, -1)
)

// misfitValue marks a case whose value must not fit.
type misfitValue struct{ reason string }

func TestConvertEdges(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	cest := time.FixedZone("CEST", 2*3600)
	guid := [16]byte{0x6F, 0x96, 0x19, 0xFF, 0x8B, 0x86, 0xD0, 0x11, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
	guidWire := []byte{0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
	tests := []struct {
		name   string
		typ    pgcatalog.Type
		to     string
		action Action
		in     any
		want   any // a misfitValue when the value must not fit
	}{
		// integers: pgx gives int16/int32/int64; bulk copy wants int64.
		{"bigint max", tBigint, "", "", int64(math.MaxInt64), int64(math.MaxInt64)},
		{"bigint min", tBigint, "", "", int64(math.MinInt64), int64(math.MinInt64)},
		{"integer", tInteger, "", "", int32(math.MinInt32), int64(math.MinInt32)},
		{"smallint", tSmallint, "", "", int16(-32768), int64(-32768)},
		{"bigint to int overflow", tBigint, "int", "", int64(1 << 40), misfitValue{"above int's maximum"}},
		{"bigint to int clamped", tBigint, "int", Clamp, int64(-1 << 40), int64(math.MinInt32)},
		{"bigint to int null", tBigint, "int", Null, int64(1 << 40), nil},
		{"smallint to tinyint negative", tSmallint, "tinyint", "", int16(-1), misfitValue{"below tinyint's minimum 0"}},
		{"bool to int", tBool, "int", "", true, int64(1)},

		// numeric(28,8): Mendix's Decimal.
		{"numeric max", tNumeric288, "", "", num(t, "99999999999999999999.99999999"), "99999999999999999999.99999999"},
		{"numeric min", tNumeric288, "", "", num(t, "-99999999999999999999.99999999"), "-99999999999999999999.99999999"},
		{"numeric smallest", tNumeric288, "", "", num(t, "0.00000001"), "0.00000001"},
		{"numeric negative smallest", tNumeric288, "", "", num(t, "-0.00000001"), "-0.00000001"},
		{"numeric zero", tNumeric288, "", "", num(t, "0"), "0.00000000"},
		{"numeric padded", tNumeric288, "", "", num(t, "1.5"), "1.50000000"},
		{"numeric integer", tNumeric288, "", "", num(t, "12345678901234567890"), "12345678901234567890.00000000"},
		{"numeric big exponent form", tNumeric288, "", "", pgtype.Numeric{Int: big.NewInt(12), Exp: 18, Valid: true}, "12000000000000000000.00000000"},
		{"numeric too many digits", tNumeric288, "", "", num(t, "100000000000000000000"), misfitValue{"more than 28 digits (20 before the decimal point)"}},
		{"numeric overflow clamped", tNumeric288, "", Clamp, num(t, "-123456789012345678901234"), "-99999999999999999999.99999999"},
		{"numeric too many places", tNumeric, "decimal(10,2)", "", num(t, "1.005"), misfitValue{"more than 2 decimal places"}},
		{"numeric rounded half away", tNumeric, "decimal(10,2)", Clamp, num(t, "-1.005"), "-1.01"},
		{"numeric rounded down", tNumeric, "decimal(10,2)", Clamp, num(t, "1.004"), "1.00"},
		{"numeric NaN", tNumeric, "decimal(38,10)", "", pgtype.Numeric{NaN: true, Valid: true}, misfitValue{"NaN"}},
		{"numeric NaN not clampable", tNumeric, "decimal(38,10)", Clamp, pgtype.Numeric{NaN: true, Valid: true}, misfitValue{"NaN"}},
		{"numeric NaN to null", tNumeric, "decimal(38,10)", Null, pgtype.Numeric{NaN: true, Valid: true}, nil},
		{"numeric infinity clamped", tNumeric, "decimal(4,1)", Clamp, pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}, "999.9"},
		{"numeric -infinity", tNumeric, "decimal(4,1)", "", pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, misfitValue{"infinity"}},
		{"numeric 38 digits", tNumeric, "decimal(38,0)", "", num(t, "99999999999999999999999999999999999999"), "99999999999999999999999999999999999999"},
		{"numeric to bigint", tNumeric288, "bigint", "", num(t, "42.00000000"), int64(42)},
		{"numeric fraction to bigint", tNumeric288, "bigint", "", num(t, "42.5"), misfitValue{"not a whole number"}},
		{"numeric to bigint overflow", tNumeric, "bigint", "", num(t, "1000000000000000000000000000000"), misfitValue{"out of the integer range"}},
		{"numeric to bigint clamped", tNumeric, "bigint", Clamp, num(t, "-1000000000000000000000000000000"), int64(math.MinInt64)},
		{"numeric to float", tNumeric288, "float", "", num(t, "0.1"), 0.1},
		{"numeric infinity to float", tNumeric, "float", "", pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}, misfitValue{"out of float's range"}},
		{"integer to decimal", tInteger, "decimal(5,2)", "", int32(999), "999.00"},
		{"integer to decimal overflow", tInteger, "decimal(5,2)", "", int32(1000), misfitValue{"more than 5 digits"}},
		{"bigint min to decimal", tBigint, "decimal(38,0)", "", int64(math.MinInt64), "-9223372036854775808"},
		{"float to decimal", tFloat8, "decimal(10,3)", "", 1.25, "1.250"},
		{"float to decimal inexact", tFloat8, "decimal(10,3)", "", 0.0001, misfitValue{"more than 3 decimal places"}},

		// floats: SQL Server has no NaN or infinity.
		{"double", tFloat8, "", "", 1e308, 1e308},
		{"double tiny", tFloat8, "", "", -1e-300, -1e-300},
		{"double NaN", tFloat8, "", "", math.NaN(), misfitValue{"NaN"}},
		{"double infinity", tFloat8, "", "", math.Inf(1), misfitValue{"no infinity"}},
		{"double infinity clamped", tFloat8, "", Clamp, math.Inf(-1), -math.MaxFloat64},
		{"real", tFloat4, "", "", float32(1.5), 1.5},
		{"real infinity clamped", tFloat4, "", Clamp, float32(math.Inf(1)), float64(math.MaxFloat32)},
		{"double to real inexact", tFloat8, "real", "", 0.1, misfitValue{"no exact real equivalent"}},
		{"bigint to float inexact", tBigint, "float", "", int64(1<<53 + 1), misfitValue{"no exact float equivalent"}},
		{"bigint to float exact", tBigint, "float", "", int64(1 << 53), float64(1 << 53)},

		// text: UTF-16 code units, empty is not NULL.
		{"empty string", tText, "", "", "", ""},
		{"beyond the BMP", tText, "", "", "😀 𝄞", "😀 𝄞"},
		{"varchar fits", tVarchar5, "", "", "ab😀c", "ab😀c"},
		{"varchar surrogate overflow", tVarchar5, "", "", "😀😀😀", misfitValue{"longer than 5 UTF-16 code units"}},
		{"varchar clamped at pair", tVarchar5, "", Clamp, "abcd😀", "abcd"},
		{"char keeps padding", tChar3, "", "", "a  ", "a  "},
		{"invalid UTF-8", tText, "", "", "a\xffb", misfitValue{"not valid UTF-8"}},
		{"invalid UTF-8 clamped", tText, "", Clamp, "a\xffb", "a\uFFFDb"},
		{"varchar ASCII", tText, "varchar(10)", "", "plain", "plain"},
		{"varchar non-ASCII", tText, "varchar(10)", "", "ünï", misfitValue{"non-ASCII"}},
		{"varchar too long clamped", tText, "varchar(3)", Clamp, "abcdef", "abc"},
		{"jsonb as text", tJSONB, "", "", `{"a": 1}`, `{"a": 1}`},

		// bytes: an empty bytea must stay non-NULL.
		{"bytea zero bytes", tBytea, "", "", []byte{0, 0xff, 0}, []byte{0, 0xff, 0}},
		{"bytea empty", tBytea, "", "", []byte{}, []byte{}},
		{"bytea nil slice is empty", tBytea, "", "", []byte(nil), []byte{}},
		{"bytea too long", tBytea, "varbinary(2)", "", []byte{1, 2, 3}, misfitValue{"longer than 2 bytes"}},
		{"bytea binary pads", tBytea, "binary(4)", "", []byte{1}, misfitValue{"pad it with zeros"}},

		// uuid: SQL Server's byte order.
		{"uuid", tUUID, "", "", guid, guidWire},
		{"text uuid", tText, "uniqueidentifier", "", "6f9619ff-8b86-d011-b42d-00c04fc964ff", guidWire},
		{"text not a uuid", tText, "uniqueidentifier", "", "6f9619ff", misfitValue{"not a UUID"}},

		// timestamps: microseconds kept, year 1 and 9999, no infinity.
		{"timestamp year 1", tTimestamp, "", "", utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamp year 9999", tTimestamp, "", "", utc(9999, 12, 31, 23, 59, 59, 999999000), utc(9999, 12, 31, 23, 59, 59, 999999000)},
		{"timestamp microseconds", tTimestamp, "", "", utc(2020, 1, 1, 0, 0, 0, 1000), utc(2020, 1, 1, 0, 0, 0, 1000)},
		{"timestamp infinity", tTimestamp, "", "", pgtype.Infinity, misfitValue{"infinity"}},
		{"timestamp infinity clamped", tTimestamp, "", Clamp, pgtype.Infinity, utc(9999, 12, 31, 23, 59, 59, 999999000)},
		{"timestamp -infinity clamped", tTimestamp, "", Clamp, pgtype.NegativeInfinity, utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamp -infinity null", tTimestamp, "", Null, pgtype.NegativeInfinity, nil},
		{"timestamp BC", tTimestamp, "", "", utc(0, 12, 31, 0, 0, 0, 0), misfitValue{"before 0001-01-01"}},
		{"timestamp BC clamped", tTimestamp, "", Clamp, utc(-44, 3, 15, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamp year 10000", tTimestamp, "", "", utc(10000, 1, 1, 0, 0, 0, 0), misfitValue{"after 9999-12-31"}},
		{"timestamp to datetime2(3)", tTimestamp, "datetime2(3)", "", utc(2020, 1, 1, 0, 0, 0, 1500000), misfitValue{"more fractional second digits"}},
		{"timestamp to datetime2(3) clamped", tTimestamp, "datetime2(3)", Clamp, utc(2020, 1, 1, 0, 0, 0, 1500000), utc(2020, 1, 1, 0, 0, 0, 1000000)},
		{"timestamp to date", tTimestamp, "date", "", utc(2020, 1, 1, 10, 0, 0, 0), misfitValue{"time of day"}},
		{"timestamptz to UTC", tTimestamptz, "", "", time.Date(2021, 6, 30, 23, 59, 59, 999999000, cest), utc(2021, 6, 30, 21, 59, 59, 999999000)},
		{"timestamptz year 1", tTimestamptz, "", "", utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamptz before year 1 in UTC", tTimestamptz, "", "", time.Date(1, 1, 1, 0, 0, 0, 0, cest), misfitValue{"before 0001-01-01"}},

		// dates.
		{"date year 1", tDate, "", "", utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0)},
		{"date year 9999", tDate, "", "", utc(9999, 12, 31, 0, 0, 0, 0), utc(9999, 12, 31, 0, 0, 0, 0)},
		{"date infinity", tDate, "", "", pgtype.Infinity, misfitValue{"infinity"}},
		{"date infinity clamped", tDate, "", Clamp, pgtype.Infinity, utc(9999, 12, 31, 0, 0, 0, 0)},
		{"date BC", tDate, "", "", utc(0, 1, 1, 0, 0, 0, 0), misfitValue{"before 0001-01-01"}},
		{"date to datetime2", tDate, "datetime2(0)", "", utc(2024, 2, 29, 0, 0, 0, 0), utc(2024, 2, 29, 0, 0, 0, 0)},

		// times of day.
		{"time microseconds", tTime, "", "", pgtype.Time{Microseconds: 86399999999, Valid: true}, utc(1, 1, 1, 23, 59, 59, 999999000)},
		{"time midnight", tTime, "", "", pgtype.Time{Microseconds: 0, Valid: true}, utc(1, 1, 1, 0, 0, 0, 0)},
		{"time 24:00", tTime, "", "", pgtype.Time{Microseconds: 86400000000, Valid: true}, misfitValue{"24:00:00"}},
		{"time 24:00 clamped", tTime, "time(0)", Clamp, pgtype.Time{Microseconds: 86400000000, Valid: true}, utc(1, 1, 1, 23, 59, 59, 0)},

		// bool.
		{"bool", tBool, "", "", false, false},

		// NULL stays NULL whatever the rule.
		{"null", tNumeric288, "", "", nil, nil},
	}
	for _, tc := range tests {
		c := column(t, tc.typ, tc.to, tc.action)
		got, err := c.Convert(tc.in)
		if want, isMisfit := tc.want.(misfitValue); isMisfit {
			var m *Misfit
			if !errors.As(err, &m) || !strings.Contains(m.Reason, want.reason) {
				t.Errorf("%s: got %#v, %v; want a misfit containing %q", tc.name, got, err, want.reason)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !sameValue(got, tc.want) {
			t.Errorf("%s: got %#v (%T), want %#v (%T)", tc.name, got, got, tc.want, tc.want)
		}
	}
}

// sameValue compares exactly, including the Go type and a time's location.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case []byte:
		g, ok := got.([]byte)
		return ok && g != nil && bytes.Equal(g, w)
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	}
	return reflect.DeepEqual(got, want)
}

func TestConvertRejectsUnexpectedGoTypes(t *testing.T) {
	tests := []struct {
		typ pgcatalog.Type
		in  any
	}{
		{tBigint, "12"},
		{tNumeric288, 1.5 + 0i},
		{tText, []byte("x")},
		{tTimestamp, "2020-01-01"},
		{tUUID, []byte{1, 2}},
		{tBool, int64(1)},
		{tTime, time.Now()},
		{tBytea, "x"},
	}
	for _, tc := range tests {
		c := column(t, tc.typ, "", Clamp)
		_, err := c.Convert(tc.in)
		var m *Misfit
		if err == nil || errors.As(err, &m) || !strings.Contains(err.Error(), "unexpected Go value") {
			t.Errorf("%s with %T: got %v, want an unexpected-value error", tc.typ.Text, tc.in, err)
		}
	}
}

func TestConvertRowNamesTableColumnKeyAndValue(t *testing.T) {
	tbl, err := New().Table(&pgcatalog.Table{
		Name: "myfirstmodule$order",
		Columns: []pgcatalog.Column{
			{Name: "id", Type: tBigint, NotNull: true},
			{Name: "order", Type: tVarchar5},
			{Name: "orderdate", Type: tTimestamp},
		},
		PrimaryKey: &pgcatalog.Constraint{Name: "pk", Columns: []string{"id"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]any, 3)
	if err := tbl.ConvertRow(dst, []any{int64(7), "", nil}); err != nil {
		t.Fatal(err)
	}
	if want := []any{int64(7), "", nil}; !reflect.DeepEqual(dst, want) {
		t.Errorf("got %#v, want %#v", dst, want)
	}

	err = tbl.ConvertRow(dst, []any{int64(42), "ok", pgtype.Infinity})
	var ve *ValueError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a ValueError", err)
	}
	if ve.Table != "myfirstmodule$order" || ve.Column != "orderdate" || ve.Key != "id=42" || ve.Value != "infinity" {
		t.Errorf("got %+v", ve)
	}
	want := `table "myfirstmodule$order" column "orderdate" row (id=42): value infinity does not fit datetime2(6): infinity: SQL Server's datetime2 has no infinity; add a --type-map rule`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message:\n got %s\nwant %s...", err, want)
	}
	if exitcode.Of(err) != exitcode.BadInput {
		t.Errorf("exit code %d, want BadInput", exitcode.Of(err))
	}
	if err := tbl.ConvertRow(dst, []any{int64(1)}); err == nil {
		t.Error("short row accepted")
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "NULL"},
		{"a\"b", `"a\"b"`},
		{strings.Repeat("é", 100), `"` + strings.Repeat("é", 40) + `... (200 bytes)"`},
		{[]byte{0, 1, 0xff}, `\x0001ff`},
		{num(t, "-1.50"), "-1.50"},
		{pgtype.NegativeInfinity, "-infinity"},
		{time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), "0001-01-01 00:00:00.000001Z"},
		{pgtype.Time{Microseconds: 3723000004, Valid: true}, "01:02:03.000004"},
		{[16]byte{0x6f, 0x96, 0x19, 0xff, 0x8b, 0x86, 0xd0, 0x11, 0xb4, 0x2d, 0, 0xc0, 0x4f, 0xc9, 0x64, 0xff}, "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
		{int32(5), "5"},
	}
	for _, tc := range tests {
		if got := FormatValue(tc.in); got != tc.want {
			t.Errorf("%#v: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func BenchmarkConvertRow(b *testing.B) {
	tbl, err := New().Table(&pgcatalog.Table{
		Name: "myfirstmodule$order",
		Columns: []pgcatalog.Column{
			{Name: "id", Type: tBigint, NotNull: true},
			{Name: "order", Type: pgType("character varying(200)", "character varying", 200, -1, -1)},
			{Name: "notes", Type: tText},
			{Name: "total", Type: tNumeric288},
			{Name: "quantity", Type: tInteger},
			{Name: "paid", Type: tBool},
			{Name: "orderdate", Type: tTimestamp},
			{Name: "shipped", Type: tTimestamptz},
			{Name: "ref", Type: tUUID},
			{Name: "weight", Type: tFloat8},
		},
		PrimaryKey: &pgcatalog.Constraint{Name: "pk", Columns: []string{"id"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	src := []any{
		int64(123456), "Order 123456", "some notes about the order that are a little longer than a name",
		num(b, "12345.12345678"), int32(17), true,
		time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC), time.Date(2024, 5, 6, 7, 8, 9, 0, time.Local),
		[16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 1.5,
	}
	dst := make([]any, len(src))
	b.ReportAllocs()
	for b.Loop() {
		if err := tbl.ConvertRow(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFormatScaledUint(t *testing.T) {
	for _, u := range []uint64{0, 1, 9, 10, 12345, 99999999, 100000000, math.MaxUint64} {
		for _, scale := range []int{0, 1, 2, 8, 19, 20, 21, 38} {
			for _, neg := range []bool{false, true} {
				want := formatScaled(neg, new(big.Int).SetUint64(u).String(), scale)
				if got := formatScaledUint(neg, u, scale); got != want {
					t.Errorf("formatScaledUint(%v, %d, %d) = %s, want %s", neg, u, scale, got, want)
				}
			}
		}
	}
}
