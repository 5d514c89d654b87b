package sqlserver

import (
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/typemap"
)

// stagingFixture is a Mendix-shaped database with the values a converter
// gets wrong: year 1 and 9999, microseconds, numeric(28,8) extremes,
// text beyond the BMP, empty strings next to NULLs, bytea with zero bytes,
// and a unique index whose values collide case-insensitively.
const stagingFixture = `
CREATE TABLE "system$user" (id bigint PRIMARY KEY, name varchar(100), "order" integer);
CREATE UNIQUE INDEX "idx_system$user_name" ON "system$user" (name);
INSERT INTO "system$user" VALUES (1, 'Bob', 1), (2, 'bob ', 2), (3, 'alice', 3), (4, NULL, 4), (5, NULL, 5), (6, 'Émile', 6), (7, 'emile', 7);
CREATE TABLE "myfirstmodule$order" (
	id bigint PRIMARY KEY, "order" varchar(200), "select" text, total numeric(28,8), quantity integer, priority smallint,
	weight double precision, ratio real, paid boolean, signature bytea, orderdate timestamp, shipped timestamptz,
	due date, alarm time, ref uuid, doc jsonb, code char(3));
INSERT INTO "myfirstmodule$order" VALUES
	(1, '', E'tab\there', 99999999999999999999.99999999, -2147483648, -32768, 1e308, 1.5, true, '\x00ff00',
	 '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '0001-01-01', '00:00:00', '6f9619ff-8b86-d011-b42d-00c04fc964ff', '{"a":[1,2]}', 'ab'),
	(2, NULL, '😀 𝄞', -99999999999999999999.99999999, 2147483647, 32767, -1e-300, NULL, false, '\x',
	 '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00', '9999-12-31', '23:59:59.999999', NULL, 'null', NULL),
	(3, 'x', NULL, 0.00000001, 0, 0, 0, 0, NULL, NULL,
	 '2020-02-29 12:34:56.000001', '2021-06-30 23:59:59.999999+02', '2024-02-29', '12:00:00.5', NULL, NULL, NULL);
CREATE SEQUENCE "myfirstmodule$order_number_mxseq";
SELECT setval('"myfirstmodule$order_number_mxseq"', 42);
CREATE TABLE "bad$dates" (id bigint PRIMARY KEY, happened timestamp);
INSERT INTO "bad$dates" VALUES (1, '2020-01-01'), (77, 'infinity');
`

// makeDump builds the fixture in a fresh database of cluster and dumps it
// the way Mendix does (pg_dump -O -x -Fc).
func makeDump(t *testing.T, cluster *pgserver.Cluster, fixture string) string {
	t.Helper()
	url := testenv.NewDatabase(t, cluster)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, fixture); err != nil {
		t.Fatal(err)
	}
	return pgDump(t, cluster.BinDir(), url)
}

// pgDump dumps the database at url the way Mendix does (pg_dump -O -x -Fc).
func pgDump(t *testing.T, binDir, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dump := filepath.Join(t.TempDir(), "db.backup")
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "pg_dump"), "-O", "-x", "-Fc", "-f", dump, "-d", url).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, out)
	}
	return dump
}

func testSource(dump string) *dbcopy.Source {
	return &dbcopy.Source{DumpPath: dump, Fingerprint: "fixture-1", ArchiveVersion: "1.14", MinRestoreMajor: 12, Schema: "public"}
}

func TestStagingRestoreConvertsEveryValue(t *testing.T) {
	cluster := testenv.Postgres(t)
	dump := makeDump(t, cluster, stagingFixture)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	stage, err := openStaging(ctx, testSource(dump), dbcopy.Options{WorkDir: t.TempDir(), Staging: "local"}, 2, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stage.close(context.Background(), true); err != nil {
			t.Errorf("close staging: %v", err)
		}
	}()
	conn, err := stage.connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	catalog, err := pgcatalog.Read(ctx, conn, "public")
	if err != nil {
		t.Fatal(err)
	}
	plan := newPlan("dbo", catalog, typemap.New())
	if len(plan.Problems) != 0 {
		t.Fatalf("problems: %v", plan.Problems)
	}
	if got := plan.Sequences[0].SQL; !strings.Contains(got, "START WITH 43 ") {
		t.Errorf("sequence: %s", got)
	}

	t.Run("values", func(t *testing.T) {
		var got [][]any
		n, err := streamTable(ctx, conn, "public", tableOf(plan, "myfirstmodule$order").Map, func(row []any) error {
			got = append(got, append([]any(nil), row...))
			return nil
		})
		if err != nil || n != 3 {
			t.Fatalf("streamed %d rows: %v", n, err)
		}
		utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
			return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
		}
		guidWire := []byte{0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
		want := map[int64][]any{
			1: {int64(1), "", "tab\there", "99999999999999999999.99999999", int64(-2147483648), int64(-32768), 1e308, 1.5, true, []byte{0, 0xff, 0},
				utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0), guidWire, `{"a": [1, 2]}`, "ab "},
			2: {int64(2), nil, "😀 𝄞", "-99999999999999999999.99999999", int64(2147483647), int64(32767), -1e-300, nil, false, []byte{},
				utc(9999, 12, 31, 23, 59, 59, 999999000), utc(9999, 12, 31, 23, 59, 59, 999999000), utc(9999, 12, 31, 0, 0, 0, 0), utc(1, 1, 1, 23, 59, 59, 999999000), nil, "null", nil},
			3: {int64(3), "x", nil, "0.00000001", int64(0), int64(0), 0.0, 0.0, nil, nil,
				utc(2020, 2, 29, 12, 34, 56, 1000), utc(2021, 6, 30, 21, 59, 59, 999999000), utc(2024, 2, 29, 0, 0, 0, 0), utc(1, 1, 1, 12, 0, 0, 500000000), nil, nil, nil},
		}
		cols := tableOf(plan, "myfirstmodule$order").Map.Columns
		for _, row := range got {
			w := want[row[0].(int64)]
			for i := range w {
				if !sameConverted(row[i], w[i]) {
					t.Errorf("row %d column %q: got %#v (%T), want %#v (%T)", row[0], cols[i].Name, row[i], row[i], w[i], w[i])
				}
			}
		}
	})

	t.Run("value that does not fit", func(t *testing.T) {
		_, err := streamTable(ctx, conn, "public", tableOf(plan, "bad$dates").Map, func([]any) error { return nil })
		var ve *typemap.ValueError
		if !errors.As(err, &ve) || ve.Table != "bad$dates" || ve.Column != "happened" || ve.Key != "id=77" || ve.Value != "infinity" {
			t.Fatalf("got %v, want a ValueError for bad$dates.happened id=77", err)
		}
		if exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("exit code %d", exitcode.Of(err))
		}
	})

	t.Run("collisions", func(t *testing.T) {
		checks := keyChecks(plan)
		var found []collision
		for _, c := range []string{"SQL_Latin1_General_CP1_CI_AS", "Latin1_General_100_CI_AI", "Latin1_General_100_BIN2"} {
			found = nil
			for _, k := range checks {
				got, err := scanCollisions(ctx, conn, "public", parseCollation(c), k)
				if err != nil {
					t.Fatal(err)
				}
				found = append(found, got...)
			}
			var groups []string
			for _, f := range found {
				groups = append(groups, f.Check.Name+": "+strings.Join(f.Values, " = "))
			}
			want := map[string][]string{
				"SQL_Latin1_General_CP1_CI_AS": {`idx_system$user_name: ("Bob") = ("bob ")`},
				"Latin1_General_100_CI_AI":     {`idx_system$user_name: ("Bob") = ("bob ")`, `idx_system$user_name: ("emile") = ("Émile")`},
				"Latin1_General_100_BIN2":      nil,
			}[c]
			if !reflect.DeepEqual(groups, want) {
				t.Errorf("%s: got %q, want %q", c, groups, want)
			}
		}
	})
}

// sameConverted compares exactly, with times by instant and in UTC.
func sameConverted(got, want any) bool {
	if w, ok := want.(time.Time); ok {
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	}
	if w, ok := want.([]byte); ok {
		g, ok := got.([]byte)
		return ok && g != nil && string(g) == string(w)
	}
	return reflect.DeepEqual(got, want)
}

func TestGivenStagingDatabase(t *testing.T) {
	cluster := testenv.Postgres(t)
	dump := makeDump(t, cluster, stagingFixture)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	url := testenv.NewDatabase(t, cluster)
	opts := dbcopy.Options{Staging: url}

	countTables := func() int {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	first, err := openStaging(ctx, testSource(dump), opts, 2, log)
	if err != nil {
		t.Fatal(err)
	}
	if n := countTables(); n != 3 {
		t.Fatalf("%d tables restored, want 3", n)
	}
	// An interrupted load leaves the data: a rerun of the same backup
	// reuses it (the restore would fail on existing tables otherwise).
	if err := first.close(ctx, false); err != nil {
		t.Fatal(err)
	}
	second, err := openStaging(ctx, testSource(dump), opts, 2, log)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	// Another backup replaces what mxmigrate restored.
	if err := second.close(ctx, false); err != nil {
		t.Fatal(err)
	}
	src := testSource(dump)
	src.Fingerprint = "fixture-2"
	third, err := openStaging(ctx, src, opts, 2, log)
	if err != nil {
		t.Fatalf("other backup: %v", err)
	}
	// After a complete load the restored schema is dropped.
	if err := third.close(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n := countTables(); n != 0 {
		t.Errorf("%d tables left after the load", n)
	}

	// Tables mxmigrate did not put there are never dropped.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE public.precious (id int)`); err != nil {
		t.Fatal(err)
	}
	_, err = openStaging(ctx, src, opts, 2, log)
	if exitcode.Of(err) != exitcode.PreflightRefused || !strings.Contains(err.Error(), "did not restore") {
		t.Errorf("got %v, want a refusal", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'precious'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("precious table gone: %d %v", n, err)
	}
}

func TestStagingRefusesTooOldPgRestore(t *testing.T) {
	cluster := testenv.Postgres(t)
	src := testSource(filepath.Join(t.TempDir(), "never-read.backup"))
	src.MinRestoreMajor, src.ArchiveVersion = 99, "1.99"
	_, err := openStaging(context.Background(), src, dbcopy.Options{Staging: testenv.NewDatabase(t, cluster)}, 1, slog.New(slog.DiscardHandler))
	if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "needs pg_restore 99 or newer") {
		t.Errorf("got %v", err)
	}
}

func tableOf(p *loadPlan, name string) *plannedTable {
	for _, t := range p.Tables {
		if t.Source.Name == name {
			return t
		}
	}
	return nil
}
