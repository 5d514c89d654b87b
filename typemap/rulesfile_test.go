package typemap

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestParseRejectsBadRules(t *testing.T) {
	tests := []struct {
		name, file, wantErr string
	}{
		{"not json", `types: {}`, "not a rules file"},
		{"unknown member", `{"tables": {}}`, `unknown field "tables"`},
		{"unknown rule field", `{"types": {"numeric": {"target": "decimal(38,2)"}}}`, `unknown field "target"`},
		{"empty rule", `{"types": {"numeric": {}}}`, `a rule needs "to", "onInvalid" or both`},
		{"bad target", `{"types": {"numeric": {"to": "money"}}}`, `unknown or unsupported SQL Server type "money"`},
		{"bad action", `{"types": {"timestamp": {"onInvalid": "skip"}}}`, `onInvalid "skip"`},
		{"column without table", `{"columns": {"name": {"to": "nvarchar(10)"}}}`, `"table.column"`},
		{"column ending in dot", `{"columns": {"t.": {"to": "nvarchar(10)"}}}`, `"table.column"`},
		{"every error named", `{"types": {"a": {"to": "x"}, "b": {"onInvalid": "y"}}}`, `types "a"`},
	}
	for _, tc := range tests {
		_, err := Parse(strings.NewReader(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: got %v, want error containing %q", tc.name, err, tc.wantErr)
			continue
		}
		if exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("%s: exit code %d, want BadInput", tc.name, exitcode.Of(err))
		}
	}
	_, err := Parse(strings.NewReader(`{"types": {"a": {"to": "x"}, "b": {"onInvalid": "y"}}}`))
	if err == nil || !strings.Contains(err.Error(), `types "b"`) {
		t.Errorf("second bad rule not named: %v", err)
	}
}

func TestLoad(t *testing.T) {
	if m, err := Load(""); err != nil || len(m.types)+len(m.columns) != 0 {
		t.Errorf("Load(\"\") = %v, %v; want the built-in rules", m, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); exitcode.Of(err) != exitcode.BadInput {
		t.Errorf("missing file: %v (code %d), want BadInput", err, exitcode.Of(err))
	}
	path := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(path, []byte(`{"types": {"numeric": {"to": "decimal(38,10)"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	col, err := m.Column("t", pgcatalog.Column{Name: "n", Type: pgType("numeric", "numeric", -1, -1, -1)})
	if err != nil || col.Target.String() != "decimal(38,10)" {
		t.Errorf("rule from file not applied: %v %v", col.Target, err)
	}
}

func TestNormaliseTypeKey(t *testing.T) {
	tests := map[string]string{
		"varchar":                        "character varying",
		"VARCHAR(200)":                   "character varying(200)",
		"character varying( 200 )":       "character varying(200)",
		"timestamptz":                    "timestamp with time zone",
		"timestamp(3)":                   "timestamp without time zone(3)",
		"timestamp(3) without time zone": "timestamp without time zone(3)",
		"numeric(40, 2)":                 "numeric(40,2)",
		"decimal":                        "numeric",
		"int4":                           "integer",
		"double precision":               "double precision",
		`"short$code"`:                   "short$code",
		"integer[]":                      "integer[]",
	}
	for in, want := range tests {
		if got := normaliseTypeKey(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestUserRulesPrecedence(t *testing.T) {
	m, err := Parse(strings.NewReader(`{
		"types": {
			"numeric": {"to": "decimal(38,10)", "onInvalid": "clamp"},
			"numeric(40,2)": {"to": "decimal(38,2)"},
			"varchar": {"onInvalid": "clamp"},
			"timestamp": {"onInvalid": "null"},
			"interval": {"to": "nvarchar(100)"},
			"short$code": {"to": "nchar(12)"}
		},
		"columns": {
			"system$user.name": {"to": "nvarchar(50)", "onInvalid": "error"},
			"system$user.total": {"onInvalid": "error"},
			"my.dotted$table.col": {"to": "bigint"}
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		table   string
		col     pgcatalog.Column
		target  string
		action  Action
		cast    string
		wantErr string
	}{
		{"a", pgcatalog.Column{Name: "n", Type: pgType("numeric", "numeric", -1, -1, -1)}, "decimal(38,10)", Clamp, "", ""},
		{"a", pgcatalog.Column{Name: "n", Type: pgType("numeric(40,2)", "numeric", -1, 40, 2)}, "decimal(38,2)", Clamp, "", ""},
		{"a", pgcatalog.Column{Name: "n", Type: pgType("numeric(28,8)", "numeric", -1, 28, 8)}, "decimal(38,10)", Clamp, "", ""},
		{"a", pgcatalog.Column{Name: "s", Type: pgType("character varying(10)", "character varying", 10, -1, -1)}, "nvarchar(10)", Clamp, "", ""},
		{"system$user", pgcatalog.Column{Name: "name", Type: pgType("character varying(100)", "character varying", 100, -1, -1)}, "nvarchar(50)", Fail, "", ""},
		{"system$user", pgcatalog.Column{Name: "total", Type: pgType("numeric(28,8)", "numeric", -1, 28, 8)}, "decimal(38,10)", Fail, "", ""},
		{"a", pgcatalog.Column{Name: "ts", Type: pgType("timestamp without time zone", "timestamp without time zone", -1, -1, -1)}, "datetime2(6)", Null, "", ""},
		{"a", pgcatalog.Column{Name: "ts", NotNull: true, Type: pgType("timestamp without time zone", "timestamp without time zone", -1, -1, -1)}, "", "", "", `onInvalid "null" on a NOT NULL column`},
		{"a", pgcatalog.Column{Name: "i", Type: pgType("interval", "interval", -1, -1, -1)}, "nvarchar(100)", Fail, "text", ""},
		{"a", pgcatalog.Column{Name: "c", Type: pgcatalog.Type{Text: `"short$code"`, Base: "character varying", Length: 12, Precision: -1, Scale: -1, Kind: 'd'}}, "nchar(12)", Clamp, "", ""},
		{"my.dotted$table", pgcatalog.Column{Name: "col", Type: pgType("integer", "integer", -1, -1, -1)}, "bigint", Fail, "", ""},
	}
	for _, tc := range tests {
		got, err := m.Column(tc.table, tc.col)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s.%s: got %v, want error %q", tc.table, tc.col.Name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s.%s: %v", tc.table, tc.col.Name, err)
			continue
		}
		if got.Target.String() != tc.target || got.OnInvalid != tc.action || got.Cast != tc.cast {
			t.Errorf("%s.%s (%s): got %s %s cast %q, want %s %s cast %q", tc.table, tc.col.Name, tc.col.Type.Text,
				got.Target, got.OnInvalid, got.Cast, tc.target, tc.action, tc.cast)
		}
	}
}

func TestIncompatibleRuleIsRefused(t *testing.T) {
	m, err := Parse(strings.NewReader(`{"types": {"jsonb": {"to": "int"}, "bytea": {"to": "nvarchar(max)"}, "boolean": {"to": "uniqueidentifier"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tbl := &pgcatalog.Table{Name: "t", Columns: []pgcatalog.Column{
		{Name: "doc", Type: pgType("jsonb", "jsonb", -1, -1, -1)},
		{Name: "raw", Type: pgType("bytea", "bytea", -1, -1, -1)},
		{Name: "flag", Type: pgType("boolean", "boolean", -1, -1, -1)},
	}}
	_, err = m.Table(tbl)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`column "doc" (jsonb): no conversion to int`, `column "flag" (boolean): no conversion to uniqueidentifier`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// bytea read as text is PostgreSQL's \x hex form: allowed.
	if strings.Contains(err.Error(), `"raw"`) {
		t.Errorf("bytea to nvarchar refused: %v", err)
	}
}

func TestUnknownColumns(t *testing.T) {
	m, err := Parse(strings.NewReader(`{"columns": {"system$user.name": {"to": "nvarchar(10)"}, "system$user.nmae": {"to": "nvarchar(10)"}, "nosuch.id": {"to": "int"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := &pgcatalog.Schema{Tables: []*pgcatalog.Table{{Name: "system$user", Columns: []pgcatalog.Column{{Name: "name"}}}}}
	if got, want := m.UnknownColumns(s), []string{"nosuch.id", "system$user.nmae"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
