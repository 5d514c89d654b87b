package postgres

import (
	"context"
	"errors"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestParseTOCLine(t *testing.T) {
	cases := []struct {
		line              string
		ok                bool
		id                int
		desc, schema, tag string
	}{
		{line: "216; 1259 16393 TABLE public mendixsystem$version mx", ok: true, id: 216, desc: "TABLE", schema: "public", tag: "mendixsystem$version"},
		{line: "3363; 0 16393 TABLE DATA public mendixsystem$version mx", ok: true, id: 3363, desc: "TABLE DATA", schema: "public", tag: "mendixsystem$version"},
		{line: "3218; 2606 16411 FK CONSTRAINT public myfirstmodule$order fk_x mx", ok: true, id: 3218, desc: "FK CONSTRAINT", schema: "public", tag: "myfirstmodule$order fk_x"},
		{line: "3372; 0 0 SEQUENCE SET public system$filedocument_mxseq mx", ok: true, id: 3372, desc: "SEQUENCE SET", schema: "public", tag: "system$filedocument_mxseq"},
		{line: "3400; 0 0 MATERIALIZED VIEW DATA public report ", ok: true, id: 3400, desc: "MATERIALIZED VIEW DATA", schema: "public", tag: "report"},
		{line: "3401; 0 0 COMMENT - EXTENSION plpgsql ", ok: true, id: 3401, desc: "COMMENT", schema: "-", tag: "EXTENSION plpgsql"},
		{line: "3211; 1259 16405 INDEX public idx_myfirstmodule$order_user mx", ok: true, id: 3211, desc: "INDEX", schema: "public", tag: "idx_myfirstmodule$order_user"},
		{line: ";216; 1259 16393 TABLE public commented out", ok: false},
		{line: "; Archive created at 2026-01-01", ok: false},
		{line: "   ", ok: false},
	}
	for _, tc := range cases {
		item, ok, err := parseTOCLine(tc.line)
		if err != nil || ok != tc.ok {
			t.Errorf("%q: ok=%v err=%v, want ok=%v", tc.line, ok, err, tc.ok)
			continue
		}
		if ok && (item.id != tc.id || item.desc != tc.desc || item.schema != tc.schema || item.tag != tc.tag) {
			t.Errorf("%q parsed as %+v", tc.line, item)
		}
	}
	for _, bad := range []string{"x; 1 2 TABLE public a b", "12 TABLE public a b", "12; 1"} {
		if _, _, err := parseTOCLine(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestRenderCommentsOutSkippedItems(t *testing.T) {
	text := ";\n; Selected TOC Entries:\n;\n1; 0 1 TABLE DATA public a mx\n2; 0 2 TABLE DATA public b mx\n3; 0 0 SEQUENCE SET public s mx\n"
	list, err := parseTOC([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	out, kept := list.render(func(it tocItem) bool { return it.tag != "b" })
	want := ";\n; Selected TOC Entries:\n;\n1; 0 1 TABLE DATA public a mx\n;2; 0 2 TABLE DATA public b mx\n3; 0 0 SEQUENCE SET public s mx\n"
	if string(out) != want || kept != 2 {
		t.Errorf("render = %q (%d kept), want %q (2 kept)", out, kept, want)
	}
}

func TestChildConnKeepsThePasswordOffTheCommandLine(t *testing.T) {
	cases := []struct {
		raw          string
		wantURL      string
		wantPassword string
	}{
		{
			raw:          "postgres://app:s3cr%2Ft@db.internal:5433/appdb?sslmode=require&pool_max_conns=4",
			wantURL:      "postgres://app@db.internal:5433/appdb?application_name=mxmigrate-restore&sslmode=require",
			wantPassword: "s3cr/t",
		},
		{
			raw:          "postgresql://app@db/appdb?password=fromquery&application_name=evil",
			wantURL:      "postgresql://app@db/appdb?application_name=mxmigrate-restore",
			wantPassword: "fromquery",
		},
		{raw: "postgres://app@db/appdb", wantURL: "postgres://app@db/appdb?application_name=mxmigrate-restore"},
	}
	for _, tc := range cases {
		u, _ := url.Parse(tc.raw)
		c := newChildConn(u)
		if c.url != tc.wantURL || c.password != tc.wantPassword {
			t.Errorf("%s: url %q password %q, want %q %q", tc.raw, c.url, c.password, tc.wantURL, tc.wantPassword)
		}
		env := c.env()
		hasPassword := slices.Contains(env, "PGPASSWORD="+tc.wantPassword)
		if hasPassword != (tc.wantPassword != "") || !slices.Contains(env, "LC_ALL=C") {
			t.Errorf("%s: env lacks PGPASSWORD or LC_ALL: %v", tc.raw, hasPassword)
		}
	}
	c := childConn{password: "hunter22"}
	if got := c.redact("FATAL: password hunter22 rejected"); got != "FATAL: password REDACTED rejected" {
		t.Errorf("redact = %q", got)
	}
}

func TestOpenRejectsBadURLsWithoutEchoingThem(t *testing.T) {
	cases := []string{
		"postgres://user:topsecret@host:5432/",
		"postgres://user:topsecret@host:5432/db?sslmode=bogus",
	}
	for _, raw := range cases {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(context.Background(), u, dbcopy.Options{})
		if exitcode.Of(err) != exitcode.BadInput || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("Open(%s) = %v, want bad input without the password", raw, err)
		}
	}
	if !slices.Contains(dbcopy.Schemes(), "postgres") || !slices.Contains(dbcopy.Schemes(), "postgresql") {
		t.Errorf("schemes registered: %v", dbcopy.Schemes())
	}
}

func TestLockKeyDependsOnTheDatabaseOnly(t *testing.T) {
	// The key is how concurrent runs of any mxmigrate build find each
	// other: it must never change, so it is pinned here.
	if got, want := lockKey("app"), int64(fnvKey("mxmigrate/dbcopy/postgres:app")); got != want {
		t.Errorf("lockKey(app) = %d, want %d (FNV-1a 64 of the namespaced name)", got, want)
	}
	if lockKey("app") == lockKey("app2") {
		t.Error("two databases share a lock key")
	}
}

func TestLeadingInt(t *testing.T) {
	cases := map[string]int{"15.4 (Debian 15.4-1)": 15, "9.6.24": 9, "17devel": 17, "": 0, "unknown": 0}
	for in, want := range cases {
		if got := leadingInt(in); got != want {
			t.Errorf("leadingInt(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestPlainValue(t *testing.T) {
	ts := time.Date(2000, 2, 29, 1, 2, 3, 0, time.FixedZone("x", 3600))
	cases := []struct {
		in, want any
	}{
		{nil, nil},
		{int16(-3), int64(-3)},
		{int32(7), int64(7)},
		{int64(math.MaxInt64), int64(math.MaxInt64)},
		{float32(0.5), float64(0.5)},
		{"\\N", "\\N"},
		{true, true},
		{ts, ts.UTC()},
		{pgtype.Infinity, "infinity"},
		{pgtype.NegativeInfinity, "-infinity"},
		{[16]byte{1}, "[1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0]"},
	}
	for _, tc := range cases {
		got := plainValue(tc.in)
		if gt, ok := got.(time.Time); ok {
			if gt.Location() != time.UTC || !gt.Equal(tc.want.(time.Time)) {
				t.Errorf("plainValue(%v) = %v", tc.in, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("plainValue(%#v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
	if b := plainValue([]byte{0, 1}).([]byte); len(b) != 2 || b[0] != 0 {
		t.Errorf("bytes changed: %v", b)
	}
}

func TestColumnExpressions(t *testing.T) {
	cases := []struct {
		col        column
		sel, order string
	}{
		{column{name: "id", baseType: pgtype.Int8OID}, `"id"`, `"id"`},
		{column{name: "order", baseType: pgtype.TextOID}, `"order"`, `"order" COLLATE "C"`},
		{column{name: "select", baseType: pgtype.NumericOID}, `"select"::text`, `"select"`},
		{column{name: "doc", baseType: pgtype.JSONOID}, `"doc"::text`, `"doc"::text COLLATE "C"`},
		{column{name: "d", baseType: pgtype.Int4OID, baseName: "integer", isDomain: true}, `"d"::integer`, `"d"`},
	}
	for _, tc := range cases {
		if got := tc.col.selectExpr(); got != tc.sel {
			t.Errorf("%s select = %s, want %s", tc.col.name, got, tc.sel)
		}
		if got := tc.col.orderExpr(); got != tc.order {
			t.Errorf("%s order = %s, want %s", tc.col.name, got, tc.order)
		}
	}
	all := []column{{name: "b", baseType: pgtype.Int4OID, keyPos: 2}, {name: "a", baseType: pgtype.Int4OID, keyPos: 1}, {name: "c", baseType: pgtype.TextOID}}
	q := scanQuery(tableRef{"public", "t$x"}, all[2:], all)
	if want := `SELECT "c" FROM "public"."t$x" ORDER BY "a", "b"`; q != want {
		t.Errorf("scanQuery = %s, want %s", q, want)
	}
	all[0].keyPos, all[1].keyPos = 0, 0
	q = scanQuery(tableRef{"public", "t"}, all, all)
	if want := `SELECT "b", "a", "c" FROM "public"."t" ORDER BY "b", "a", "c" COLLATE "C"`; q != want {
		t.Errorf("scanQuery without key = %s, want %s", q, want)
	}
}

type countingProgress struct {
	phase string
	total int64
	done  int64
}

func (p *countingProgress) Phase(name string, total int64) { p.phase, p.total = name, total }
func (p *countingProgress) Add(n int64)                    { p.done += n }

func TestProgressCounter(t *testing.T) {
	cases := []struct {
		name     string
		parallel bool
		lines    []string
		before   int64 // done after the lines, before finish
	}{
		{name: "parallel counts finished items", parallel: true, lines: []string{
			"pg_restore: launching item 1 TABLE DATA a", "pg_restore: finished item 1 TABLE DATA a",
			"pg_restore: finished item 2 TABLE DATA b", "pg_restore: processing data for table \"public.c\"",
		}, before: 2},
		{name: "serial counts an item when the next starts", lines: []string{
			"pg_restore: creating TABLE \"public.a\"", "pg_restore: creating TABLE \"public.b\"",
			"pg_restore: processing data for table \"public.b\"",
		}, before: 2},
		{name: "never more than the total", parallel: true, lines: slices.Repeat([]string{"pg_restore: finished item 9 X"}, 10), before: 3},
	}
	for _, tc := range cases {
		p := &countingProgress{}
		c := newProgressCounter(p, "data", 3, tc.parallel)
		for _, l := range tc.lines {
			c.line(l)
		}
		if p.phase != "data" || p.total != 3 || p.done != tc.before {
			t.Errorf("%s: %+v, want %d done", tc.name, p, tc.before)
		}
		c.finish()
		if p.done != 3 {
			t.Errorf("%s: %d done after finish, want 3", tc.name, p.done)
		}
	}
}

func TestStderrLinesQuoteTheErrors(t *testing.T) {
	s := &stderrLines{redact: childConn{password: "hunter22"}.redact}
	out := "pg_restore: connecting to database for restore\npg_restore: processing item 1\n" +
		"pg_restore: error: could not execute query: ERROR:  relation \"x\" already exists\n" +
		"Command was: CREATE TABLE x (password hunter22);\npg_restore: warning: errors ignored on restore: 1\npartial"
	// Written in odd pieces, as a pipe delivers it.
	for i := 0; i < len(out); i += 7 {
		s.Write([]byte(out[i:min(i+7, len(out))]))
	}
	got := s.errorText()
	if !containsAll(got, `relation "x" already exists`, "Command was: CREATE TABLE x (password REDACTED)", "errors ignored") ||
		strings.Contains(got, "connecting") || strings.Contains(got, "hunter22") {
		t.Errorf("errorText = %q", got)
	}
	quiet := &stderrLines{redact: func(s string) string { return s }}
	quiet.Write([]byte("a\nb\nlast words"))
	if got := quiet.errorText(); got != "a | b | last words" {
		t.Errorf("errorText without error lines = %q", got)
	}
}

func TestPresenceKind(t *testing.T) {
	cases := map[string]string{
		"INDEX": "INDEX", "CONSTRAINT": "CONSTRAINT", "FK CONSTRAINT": "CONSTRAINT", "CHECK CONSTRAINT": "CONSTRAINT",
		"TRIGGER": "TRIGGER", "COMMENT": "", "MATERIALIZED VIEW DATA": "", "INDEX ATTACH": "", "SEQUENCE SET": "",
	}
	for desc, want := range cases {
		if got := presenceKind(desc); got != want {
			t.Errorf("presenceKind(%q) = %q, want %q", desc, got, want)
		}
	}
}

func TestChecklistOutcome(t *testing.T) {
	cases := []struct {
		name     string
		refusals []error
		want     int
	}{
		{name: "all fine", want: exitcode.OK},
		{name: "a refusal", refusals: []error{errors.New("not empty")}, want: exitcode.PreflightRefused},
		{name: "bad input wins", refusals: []error{errors.New("not empty"), exitcode.With(exitcode.BadInput, errors.New("old pg_restore"))}, want: exitcode.BadInput},
	}
	for _, tc := range cases {
		c := &checklist{res: &dbcopy.PreflightResult{}}
		c.ok("fine", "")
		for i, err := range tc.refusals {
			c.refuse("check"+itoa(i), err)
		}
		if got := exitcode.Of(c.err()); got != tc.want {
			t.Errorf("%s: code %d, want %d", tc.name, got, tc.want)
		}
		if len(c.res.Checks) != 1+len(tc.refusals) {
			t.Errorf("%s: %d checks recorded", tc.name, len(c.res.Checks))
		}
	}
}

func TestCheckReadsNamesTheVersionNeeded(t *testing.T) {
	tool := restoreTool{path: "/usr/lib/postgresql/15/bin/pg_restore", major: 15}
	if err := tool.checkReads(&dbcopy.Source{MinRestoreMajor: 15}); err != nil {
		t.Errorf("same major refused: %v", err)
	}
	if err := tool.checkReads(&dbcopy.Source{}); err != nil {
		t.Errorf("unknown minimum refused: %v", err)
	}
	err := tool.checkReads(&dbcopy.Source{MinRestoreMajor: 17, ArchiveVersion: "1.16", DumpVersion: "17.2"})
	if exitcode.Of(err) != exitcode.BadInput || !containsAll(err.Error(), "needs pg_restore 17", "version 15", "MXMIGRATE_PG_BIN=/usr/lib/postgresql/17/bin") {
		t.Errorf("checkReads = %v", err)
	}
}

// fnvKey is FNV-1a 64 written out, independent of lockKey's use of hash/fnv.
func fnvKey(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func TestOpenRefusesOptionsItDoesNotUse(t *testing.T) {
	u, _ := url.Parse("postgres://app:hunter22@127.0.0.1:1/db")
	cases := []struct {
		name string
		opts dbcopy.Options
		flag string
	}{
		{"type map", dbcopy.Options{TypeMapFile: "types.json"}, "--type-map"},
		{"unknown loader", dbcopy.Options{Loader: "bcp"}, "--loader"},
	}
	for _, tc := range cases {
		_, err := Open(context.Background(), u, tc.opts)
		if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), tc.flag) || strings.Contains(err.Error(), "hunter22") {
			t.Errorf("%s: Open = %v, want bad input naming %s", tc.name, err, tc.flag)
		}
	}
}
