package typemap

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
)

func TestPostgresTypeInvertsTheDefaults(t *testing.T) {
	tests := []struct {
		col  SQLServerColumn
		want string
	}{
		{SQLServerColumn{Type: "bigint"}, "bigint"},
		{SQLServerColumn{Type: "int"}, "integer"},
		{SQLServerColumn{Type: "smallint"}, "smallint"},
		{SQLServerColumn{Type: "tinyint"}, "smallint"},
		{SQLServerColumn{Type: "bit"}, "boolean"},
		{SQLServerColumn{Type: "decimal", Precision: 28, Scale: 8}, "numeric(28,8)"},
		{SQLServerColumn{Type: "numeric", Precision: 38, Scale: 0}, "numeric(38,0)"},
		{SQLServerColumn{Type: "money"}, "numeric(19,4)"},
		{SQLServerColumn{Type: "float", Precision: 53}, "double precision"},
		{SQLServerColumn{Type: "real", Precision: 24}, "real"},
		{SQLServerColumn{Type: "nvarchar", MaxLength: 400}, "character varying(200)"},
		{SQLServerColumn{Type: "nvarchar", MaxLength: -1}, "text"},
		{SQLServerColumn{Type: "varchar", MaxLength: 30}, "character varying(30)"},
		{SQLServerColumn{Type: "nchar", MaxLength: 6}, "character(3)"},
		{SQLServerColumn{Type: "varbinary", MaxLength: -1}, "bytea"},
		{SQLServerColumn{Type: "uniqueidentifier"}, "uuid"},
		{SQLServerColumn{Type: "date"}, "date"},
		{SQLServerColumn{Type: "datetime2", Scale: 6}, "timestamp without time zone"},
		{SQLServerColumn{Type: "datetime2", Scale: 7}, "timestamp without time zone"},
		{SQLServerColumn{Type: "datetime2", Scale: 3}, "timestamp(3) without time zone"},
		{SQLServerColumn{Type: "datetime"}, "timestamp(3) without time zone"},
		{SQLServerColumn{Type: "datetimeoffset", Scale: 6}, "timestamp with time zone"},
		{SQLServerColumn{Type: "time", Scale: 6}, "time without time zone"},
		{SQLServerColumn{Type: "time", Scale: 0}, "time(0) without time zone"},
	}
	for _, tt := range tests {
		got, err := PostgresType(tt.col)
		if err != nil || got.Text != tt.want {
			t.Errorf("%+v: %q, %v; want %q", tt.col, got.Text, err, tt.want)
		}
	}
	for _, typ := range []string{"sql_variant", "geography", "hierarchyid"} {
		if _, err := PostgresType(SQLServerColumn{Type: typ}); !errors.Is(err, ErrNoInverse) || !strings.Contains(err.Error(), typ) {
			t.Errorf("%s: err %v, want ErrNoInverse naming the type", typ, err)
		}
	}
}

func TestAppendCopyTextWritesWhatCopyToWrites(t *testing.T) {
	ty := func(text string) pgcatalog.Type {
		for _, c := range []SQLServerColumn{{Type: "bigint"}, {Type: "bit"}, {Type: "float"}, {Type: "real"}, {Type: "decimal", Precision: 28, Scale: 8},
			{Type: "nvarchar", MaxLength: -1}, {Type: "nchar", MaxLength: 6}, {Type: "varbinary", MaxLength: -1}, {Type: "uniqueidentifier"},
			{Type: "date"}, {Type: "datetime2", Scale: 7}, {Type: "datetimeoffset", Scale: 7}, {Type: "time", Scale: 7}} {
			if pt, _ := PostgresType(c); pt.Text == text {
				return pt
			}
		}
		t.Fatalf("no type %s", text)
		return pgcatalog.Type{}
	}
	ts := time.Date(2024, 2, 29, 23, 59, 59, 500000000, time.FixedZone("", 2*3600))
	tests := []struct {
		typ  string
		v    any
		want string
	}{
		{"bigint", nil, `\N`},
		{"bigint", int64(-9223372036854775808), "-9223372036854775808"},
		{"boolean", true, "t"},
		{"boolean", false, "f"},
		{"double precision", 1e308, "1e+308"},
		{"double precision", 0.1, "0.1"},
		{"double precision", math.Inf(-1), "-Infinity"},
		{"real", float64(float32(1.1)), "1.1"},
		{"numeric(28,8)", []byte("-99999999999999999999.99999999"), "-99999999999999999999.99999999"},
		{"text", "tab\there\nnew\\line\r\b\f\v\x01é", `tab\there\nnew\\line\r\b\f\v` + "\x01é"},
		{"text", "", ""},
		{"text", `\N`, `\\N`},
		{"character(3)", "ab", "ab "},
		{"bytea", []byte{0, 0xff, 0x5c}, `\\x00ff5c`},
		{"bytea", []byte{}, `\\x`},
		{"uuid", []byte{0xff, 0x19, 0x96, 0x6f, 0x86, 0x8b, 0x11, 0xd0, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64, 0xff}, "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
		{"date", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01"},
		{"timestamp without time zone", ts, "2024-02-29 23:59:59.5"},
		{"timestamp without time zone", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "9999-12-31 23:59:59.999999"},
		{"timestamp with time zone", ts, "2024-02-29 21:59:59.5+00"},
		{"time without time zone", time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC), "12:00:00"},
	}
	for _, tt := range tests {
		got, err := AppendCopyText(nil, ty(tt.typ), tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s %#v: %q, %v; want %q", tt.typ, tt.v, got, err, tt.want)
		}
	}
	refusals := []struct {
		typ  string
		v    any
		want string
	}{
		{"text", "a\x00b", "NUL"},
		{"timestamp without time zone", time.Date(2024, 1, 1, 0, 0, 0, 100, time.UTC), "below the microsecond"},
		{"bigint", "12", "cannot be written as bigint"},
	}
	for _, tt := range refusals {
		if _, err := AppendCopyText(nil, ty(tt.typ), tt.v); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %#v: err %v, want %q", tt.typ, tt.v, err, tt.want)
		}
	}
}
