package typemap

import (
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
)

// pgType builds a catalog type the way pgcatalog.Read reports it.
func pgType(text, base string, length, precision, scale int) pgcatalog.Type {
	return pgcatalog.Type{Text: text, Base: base, Length: length, Precision: precision, Scale: scale, Kind: 'b'}
}

func TestBuiltinRules(t *testing.T) {
	tests := []struct {
		typ     pgcatalog.Type
		want    string
		wantErr string
	}{
		{pgType("bigint", "bigint", -1, -1, -1), "bigint", ""},
		{pgType("integer", "integer", -1, -1, -1), "int", ""},
		{pgType("smallint", "smallint", -1, -1, -1), "smallint", ""},
		{pgType("numeric(28,8)", "numeric", -1, 28, 8), "decimal(28,8)", ""},
		{pgType("numeric(38,0)", "numeric", -1, 38, 0), "decimal(38,0)", ""},
		{pgType("numeric(38,38)", "numeric", -1, 38, 38), "decimal(38,38)", ""},
		{pgType("numeric(3,-2)", "numeric", -1, 3, -2), "decimal(5,0)", ""},
		{pgType("numeric(37,-2)", "numeric", -1, 37, -2), "", "up to 39 digits"},
		{pgType("numeric(39,2)", "numeric", -1, 39, 2), "", "exceeds SQL Server's decimal precision of 38"},
		{pgType("numeric", "numeric", -1, -1, -1), "", "unconstrained numeric"},
		{pgType("boolean", "boolean", -1, -1, -1), "bit", ""},
		{pgType("character varying(200)", "character varying", 200, -1, -1), "nvarchar(200)", ""},
		{pgType("character varying(4000)", "character varying", 4000, -1, -1), "nvarchar(4000)", ""},
		{pgType("character varying(4001)", "character varying", 4001, -1, -1), "nvarchar(max)", ""},
		{pgType("character varying", "character varying", -1, -1, -1), "nvarchar(max)", ""},
		{pgType("character(1)", "character", 1, -1, -1), "nchar(1)", ""},
		{pgType("character(4000)", "character", 4000, -1, -1), "nchar(4000)", ""},
		{pgType("character(5000)", "character", 5000, -1, -1), "nvarchar(max)", ""},
		{pgType("text", "text", -1, -1, -1), "nvarchar(max)", ""},
		{pgType("timestamp without time zone", "timestamp without time zone", -1, -1, -1), "datetime2(6)", ""},
		{pgType("timestamp(3) without time zone", "timestamp without time zone", -1, 3, -1), "datetime2(3)", ""},
		{pgType("timestamp(0) without time zone", "timestamp without time zone", -1, 0, -1), "datetime2(0)", ""},
		{pgType("timestamp with time zone", "timestamp with time zone", -1, -1, -1), "datetimeoffset(6)", ""},
		{pgType("date", "date", -1, -1, -1), "date", ""},
		{pgType("time without time zone", "time without time zone", -1, -1, -1), "time(6)", ""},
		{pgType("time(2) without time zone", "time without time zone", -1, 2, -1), "time(2)", ""},
		{pgType("bytea", "bytea", -1, -1, -1), "varbinary(max)", ""},
		{pgType("uuid", "uuid", -1, -1, -1), "uniqueidentifier", ""},
		{pgType("double precision", "double precision", -1, -1, -1), "float", ""},
		{pgType("real", "real", -1, -1, -1), "real", ""},
		{pgType("json", "json", -1, -1, -1), "nvarchar(max)", ""},
		{pgType("jsonb", "jsonb", -1, -1, -1), "nvarchar(max)", ""},
		{pgType("interval", "interval", -1, -1, -1), "", "no built-in rule for PostgreSQL type interval"},
		{pgType("integer[]", "integer[]", -1, -1, -1), "", `"integer[]"`},
		{pgType("time with time zone", "time with time zone", -1, -1, -1), "", "no built-in rule"},
		{pgcatalog.Type{Text: "mood", Base: "mood", Length: -1, Precision: -1, Scale: -1, Kind: 'e'}, "", "no built-in rule for PostgreSQL type mood"},
	}
	m := New()
	for _, tc := range tests {
		col, err := m.Column("t", pgcatalog.Column{Name: "c", Type: tc.typ})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: got %v (%v), want error containing %q", tc.typ.Text, col.Target, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.typ.Text, err)
			continue
		}
		if got := col.Target.String(); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.typ.Text, got, tc.want)
		}
	}
}

func TestEveryBuiltinRuleIsTested(t *testing.T) {
	// The table above must cover each base type of builtinRules: adding a
	// rule without a test fails here.
	tested := map[string]bool{"bigint": true, "integer": true, "smallint": true, "numeric": true, "boolean": true,
		"character varying": true, "character": true, "text": true, "timestamp without time zone": true,
		"timestamp with time zone": true, "date": true, "time without time zone": true, "bytea": true,
		"uuid": true, "double precision": true, "real": true, "json": true, "jsonb": true}
	for base := range builtinRules {
		if !tested[base] {
			t.Errorf("built-in rule for %s has no case in TestBuiltinRules", base)
		}
	}
	if len(builtinRules) != len(tested) {
		t.Errorf("%d rules, %d tested", len(builtinRules), len(tested))
	}
}

func TestSelectExprCastsToText(t *testing.T) {
	tests := []struct {
		typ  pgcatalog.Type
		name string
		want string
	}{
		{pgType("jsonb", "jsonb", -1, -1, -1), "doc", `"doc"::text`},
		{pgType("text", "text", -1, -1, -1), "order", `"order"`},
		{pgType("bigint", "bigint", -1, -1, -1), `we"ird$col`, `"we""ird$col"`},
	}
	for _, tc := range tests {
		col, err := New().Column("t", pgcatalog.Column{Name: tc.name, Type: tc.typ})
		if err != nil {
			t.Fatal(err)
		}
		if got := col.SelectExpr(); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.typ.Text, got, tc.want)
		}
	}
}
