package sqlserver

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/typemap"
)

func TestDropSQLOrder(t *testing.T) {
	objects := []dbObject{{"t1", "table"}, {"s1", "sequence"}, {"v]1", "view"}, {"t2", "table"}}
	got := dropSQL("dbo", objects, [][2]string{{"t2", "fk]x"}})
	want := []string{
		"ALTER TABLE [dbo].[t2] DROP CONSTRAINT [fk]]x]",
		"DROP VIEW [dbo].[v]]1]",
		"DROP TABLE [dbo].[t1]",
		"DROP TABLE [dbo].[t2]",
		"DROP SEQUENCE [dbo].[s1]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestEmptinessCheck(t *testing.T) {
	objects := []dbObject{{"a", "table"}, {"b", "table"}, {"c", "table"}, {"d", "view"}, {"e", "sequence"}, {"f", "table"}}
	tests := []struct {
		name      string
		objects   []dbObject
		resumable bool
		ifExists  dbcopy.IfExists
		ok, warn  bool
		detail    string
	}{
		{"empty", nil, false, dbcopy.IfExistsFail, true, false, "[dbo] is empty"},
		{"resume", objects, true, dbcopy.IfExistsFail, true, false, "resuming"},
		{"drop", objects, false, dbcopy.IfExistsDrop, true, true, "6 objects that --if-exists drop will remove"},
		{"refuse", objects, false, dbcopy.IfExistsFail, false, false, "holds 6 objects (table a, table b, table c, view d, sequence e, ...): use --if-exists drop"},
	}
	for _, tc := range tests {
		c := emptinessCheck("dbo", tc.objects, tc.resumable, tc.ifExists)
		if c.OK != tc.ok || c.Warn != tc.warn || !strings.Contains(c.Detail, tc.detail) {
			t.Errorf("%s: got %+v", tc.name, c)
		}
	}
}

func TestOpenRefusesTheLoaderFlag(t *testing.T) {
	// Refused before connecting: nothing listens on this URL.
	_, err := dbcopy.Open(context.Background(), "sqlserver://sa:hunter22@127.0.0.1:1?database=x", dbcopy.Options{Loader: "pg_restore"})
	if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "--loader") || strings.Contains(err.Error(), "hunter22") {
		t.Fatalf("Open with --loader = %v (exit %d), want bad input naming --loader", err, exitcode.Of(err))
	}
}

func TestPreparedChecks(t *testing.T) {
	plan := newPlan("dbo", mendixSchema(), typemap.New())
	ci := parseCollation("SQL_Latin1_General_CP1_CI_AS")
	clean := preparedChecks(&prepared{plan: plan, collation: ci})
	for _, c := range clean {
		if !c.OK {
			t.Errorf("clean plan refused: %+v", c)
		}
	}
	k := keyCheck{Table: "system$user", Kind: "unique index", Name: "idx_system$user_name"}
	refused := preparedChecks(&prepared{plan: plan, collation: ci, collisions: []collision{{Check: k, Values: []string{`("A")`, `("a")`}}}})
	var collationCheck *dbcopy.Check
	for i := range refused {
		if refused[i].Name == "collation" {
			collationCheck = &refused[i]
		}
	}
	if collationCheck == nil || collationCheck.OK || !strings.Contains(collationCheck.Detail, `("A") = ("a")`) {
		t.Errorf("collision not refused: %+v", refused)
	}
}

func TestPlainValue(t *testing.T) {
	offset := time.Date(2021, 6, 30, 23, 59, 59, 999999000, time.FixedZone("", 2*3600))
	wire := []byte{0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
	tests := []struct {
		in   any
		typ  string
		want any
	}{
		{[]byte("-1.50000000"), "DECIMAL", "-1.50000000"},
		{wire, "UNIQUEIDENTIFIER", "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
		{[]byte{0, 1}, "VARBINARY", []byte{0, 1}},
		{float32(1.5), "REAL", 1.5},
		{offset, "DATETIMEOFFSET", time.Date(2021, 6, 30, 21, 59, 59, 999999000, time.UTC)},
		{int64(7), "BIGINT", int64(7)},
		{time.Date(1, 1, 1, 12, 0, 0, 500000000, time.UTC), "TIME", "12:00:00.5"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "TIME", "00:00:00"},
		{time.Date(1, 1, 1, 23, 59, 59, 999999000, time.UTC), "TIME", "23:59:59.999999"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "DATETIME2", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{nil, "NVARCHAR", nil},
	}
	for _, tc := range tests {
		got := plainValue(tc.in, tc.typ)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %#v: got %#v, want %#v", tc.typ, tc.in, got, tc.want)
		}
	}
}

func TestOrderTerm(t *testing.T) {
	tests := []struct{ col, typ, want string }{
		{"name", "NVARCHAR", "[name] COLLATE Latin1_General_100_BIN2"},
		{"id", "UNIQUEIDENTIFIER", "CONVERT(char(36), [id])"},
		{"id", "BIGINT", "[id]"},
		{"a]b", "INT", "[a]]b]"},
	}
	for _, tc := range tests {
		if got := orderTerm(tc.col, tc.typ); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}
