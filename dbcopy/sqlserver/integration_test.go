package sqlserver

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
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
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// oddNamesFixture needs "]]" inside bracketed names, which the stand-in
// cannot parse.
const oddNamesFixture = `
CREATE TABLE "odd]table" (id integer PRIMARY KEY, "we]ird" text);
INSERT INTO "odd]table" VALUES (1, 'a]b');
`

// integrationFixture is a Mendix-shaped app whose every value must come
// back from SQL Server unchanged.
const integrationFixture = `
CREATE TABLE "system$user" (id bigint PRIMARY KEY, name varchar(100), "user" varchar(20) DEFAULT 'nobody',
	"system$owner" bigint REFERENCES "system$user" (id) ON DELETE SET NULL,
	"myfirstmodule$account_user" bigint CONSTRAINT "uniq_system$user_account" UNIQUE,
	email varchar(200) NOT NULL DEFAULT '' CONSTRAINT "uniq_system$user_email" UNIQUE);
CREATE UNIQUE INDEX "idx_system$user_name" ON "system$user" (name);
INSERT INTO "system$user" (id, name, email, "system$owner") VALUES (1, 'Bob', 'bob@x', NULL), (2, 'alice', 'alice@x', 1), (3, NULL, 'n1', 1), (4, NULL, 'n2', NULL), (5, 'Émile', 'e', 2);
INSERT INTO "system$user" (id, email, "myfirstmodule$account_user") SELECT g, 'user' || g, CASE WHEN g % 2 = 0 THEN g END FROM generate_series(6, 40) g;
CREATE TABLE "myfirstmodule$order" (
	id bigint PRIMARY KEY, number bigint, "order" varchar(200), "select" text, total numeric(28,8), quantity integer, priority smallint,
	weight double precision, ratio real, paid boolean, signature bytea, orderdate timestamp, shipped timestamptz,
	due date, alarm time, ref uuid, doc jsonb, code char(3),
	"system$owner" bigint CONSTRAINT "myfirstmodule$order_system$owner_fk" REFERENCES "system$user" (id) ON DELETE SET NULL,
	"system$changedby" bigint CONSTRAINT "myfirstmodule$order_system$changedby_fk" REFERENCES "system$user" (id) ON DELETE SET NULL,
	CONSTRAINT "uniq_myfirstmodule$order_number" UNIQUE (number));
CREATE INDEX "idx_myfirstmodule$order_orderdate" ON "myfirstmodule$order" (orderdate DESC);
INSERT INTO "myfirstmodule$order" (id, number, "order", "select", total, quantity, priority, weight, ratio, paid, signature,
	orderdate, shipped, due, alarm, ref, doc, code) VALUES
	(1, 1, '', E'tab\there', 99999999999999999999.99999999, -2147483648, -32768, 1e308, 1.5, true, '\x00ff00',
	 '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '0001-01-01', '00:00:00', '6f9619ff-8b86-d011-b42d-00c04fc964ff', '{"a":[1,2]}', 'ab'),
	(2, 2, NULL, '😀 𝄞', -99999999999999999999.99999999, 2147483647, 32767, -1e-300, NULL, false, '\x',
	 '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00', '9999-12-31', '23:59:59.999999', NULL, 'null', NULL),
	(3, NULL, 'x', NULL, 0.00000001, 0, 0, 0, 0, NULL, NULL,
	 '2020-02-29 12:34:56.000001', '2021-06-30 23:59:59.999999+02', '2024-02-29', '12:00:00.5', NULL, NULL, NULL);
INSERT INTO "myfirstmodule$order" (id, number, total, "system$owner", "system$changedby") SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE g END, g / 7.0, 1, 2 FROM generate_series(10, 2500) g;
CREATE TABLE "myfirstmodule$order_customer" (
	"myfirstmodule$orderid" bigint NOT NULL REFERENCES "myfirstmodule$order" (id),
	"myfirstmodule$customerid" bigint NOT NULL,
	PRIMARY KEY ("myfirstmodule$orderid", "myfirstmodule$customerid"));
INSERT INTO "myfirstmodule$order_customer" SELECT g, g % 5 FROM generate_series(10, 1000) g;
CREATE TABLE "mendixsystem$version" (versionnumber varchar(30) NOT NULL, modelversion varchar(200));
INSERT INTO "mendixsystem$version" VALUES ('10.0.0', '1.0.0.40');
CREATE SEQUENCE "myfirstmodule$order_number_mxseq";
SELECT setval('"myfirstmodule$order_number_mxseq"', 2500);
CREATE SEQUENCE "system$filedocument_fileid_mxseq";
`

func TestLoadIntoSQLServer(t *testing.T) {
	serverURL := sqlServerURL(t)
	db := openDB(t, serverURL)
	fixture := integrationFixture
	if !isBabelfish(t, db) {
		fixture += oddNamesFixture
	}
	cluster := testenv.Postgres(t)
	sourceURL := testenv.NewDatabase(t, cluster)
	dump := makeDumpFrom(t, cluster, sourceURL, fixture)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	schema := testSchemaName("mxload")
	t.Cleanup(func() { dropTestSchema(t, db, schema) })
	src := sourceOf(t, ctx, sourceURL, dump, "integration-1")
	opts := dbcopy.Options{Schema: schema, Jobs: 2, WorkDir: t.TempDir(), AllowConnected: true, Log: slog.New(slog.DiscardHandler)}

	tg := open(t, ctx, serverURL, opts)
	unlock, err := tg.Lock(ctx, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// A second run waits and gives up with LockHeld.
	other := open(t, ctx, serverURL, opts)
	if _, err := other.Lock(ctx, time.Second); exitcode.Of(err) != exitcode.LockHeld || !strings.Contains(err.Error(), "another migration holds the lock on") {
		t.Errorf("second lock: %v", err)
	}

	res, err := tg.Preflight(ctx, src)
	if err != nil {
		t.Fatalf("preflight: %v (%+v)", err, res)
	}
	if res.AlreadyDone || res.Resumable {
		t.Errorf("fresh target reported %+v", res)
	}
	// The foreign key actions SQL Server refuses are listed as a warning.
	changed := false
	for _, c := range res.Checks {
		changed = changed || (c.Name == "foreign key actions" && c.OK && c.Warn &&
			strings.Contains(c.Detail, `foreign key "myfirstmodule$order_system$owner_fk": ON DELETE SET NULL becomes NO ACTION`) &&
			strings.Contains(c.Detail, `foreign key "system$user_system$owner_fkey": ON DELETE SET NULL becomes NO ACTION`))
	}
	if !changed {
		t.Errorf("preflight does not list the changed foreign key actions: %+v", res.Checks)
	}
	if err := tg.Load(ctx, src); err != nil {
		t.Fatalf("load: %v", err)
	}
	compareWithSource(t, ctx, tg, sourceURL)
	checkKeysDDL(t, ctx, db, schema)
	unlock()
	tg.Close()

	// Idempotent: a second run has nothing to do.
	again := open(t, ctx, serverURL, opts)
	res, err = again.Preflight(ctx, src)
	if err != nil || !res.AlreadyDone {
		t.Errorf("second preflight: %+v, %v", res, err)
	}
	if err := again.Load(ctx, src); err != nil {
		t.Errorf("second load: %v", err)
	}

	// Resume: a killed run left a table half copied and a key missing.
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`UPDATE [mxmigrate].[load] SET [status] = N'loading' WHERE [target_schema] = @p1;
UPDATE [mxmigrate].[load_table] SET [status] = N'copying' WHERE [target_schema] = @p1 AND [table_name] = N'myfirstmodule$order_customer';
DROP INDEX [idx_myfirstmodule$order_orderdate] ON %s;
ALTER TABLE %s DROP CONSTRAINT [uniq_system$user_email];
DROP INDEX [uniq_system$user_account] ON %s;
INSERT INTO %s VALUES (10, 99);`,
		qualified(schema, "myfirstmodule$order"), qualified(schema, "system$user"), qualified(schema, "system$user"), qualified(schema, "myfirstmodule$order_customer")), schema); err != nil {
		t.Fatal(err)
	}
	resumed := open(t, ctx, serverURL, opts)
	res, err = resumed.Preflight(ctx, src)
	if err != nil || !res.Resumable {
		t.Fatalf("preflight after a kill: %+v, %v", res, err)
	}
	if err := resumed.Load(ctx, src); err != nil {
		t.Fatalf("resumed load: %v", err)
	}
	compareWithSource(t, ctx, resumed, sourceURL)
	checkKeysDDL(t, ctx, db, schema)

	// Another backup into the loaded schema is refused unless told to drop.
	src2 := *src
	src2.Fingerprint = "integration-2"
	fresh := open(t, ctx, serverURL, opts)
	res, err = fresh.Preflight(ctx, &src2)
	if exitcode.Of(err) != exitcode.PreflightRefused || len(res.ToDrop) != 0 {
		t.Errorf("non-empty target: %v %+v", err, res)
	}
	dropOpts := opts
	dropOpts.IfExists = dbcopy.IfExistsDrop
	fresh = open(t, ctx, serverURL, dropOpts)
	res, err = fresh.Preflight(ctx, &src2)
	if err != nil || len(res.ToDrop) == 0 {
		t.Fatalf("preflight with drop: %+v %v", res, err)
	}
	if err := fresh.Load(ctx, &src2); err != nil {
		t.Fatalf("load with drop: %v", err)
	}
	compareWithSource(t, ctx, fresh, sourceURL)
}

func TestCollationCollisionsRefuseTheLoad(t *testing.T) {
	serverURL := sqlServerURL(t)
	db := openDB(t, serverURL)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name, err := targetCollation(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !parseCollation(name).caseInsensitive {
		t.Skipf("the test database's collation %s is case-sensitive: nothing collides", name)
	}
	cluster := testenv.Postgres(t)
	sourceURL := testenv.NewDatabase(t, cluster)
	dump := makeDumpFrom(t, cluster, sourceURL, `CREATE TABLE "system$user" (id bigint PRIMARY KEY, name varchar(100));
CREATE UNIQUE INDEX "idx_system$user_name" ON "system$user" (name);
INSERT INTO "system$user" VALUES (1, 'Bob'), (2, 'bob'), (3, 'carol');`)
	schema := testSchemaName("mxcoll")
	t.Cleanup(func() { dropTestSchema(t, db, schema) })
	opts := dbcopy.Options{Schema: schema, WorkDir: t.TempDir(), AllowConnected: true}
	tg := open(t, ctx, serverURL, opts)
	res, err := tg.Preflight(ctx, sourceOf(t, ctx, sourceURL, dump, "collide"))
	if exitcode.Of(err) != exitcode.PreflightRefused {
		t.Fatalf("got %v, want a refusal", err)
	}
	if !strings.Contains(err.Error(), `table "system$user" unique index "idx_system$user_name": ("Bob") = ("bob")`) {
		t.Errorf("refusal does not name the collision: %v", err)
	}
	if res == nil || len(res.Checks) == 0 {
		t.Errorf("no checks explain the refusal")
	}
	objects, _ := listObjects(ctx, db, schema)
	if len(objects) != 0 {
		t.Errorf("preflight wrote %v", objects)
	}
}

func open(t *testing.T, ctx context.Context, rawURL string, opts dbcopy.Options) dbcopy.Target {
	t.Helper()
	tg, err := dbcopy.Open(ctx, rawURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func makeDumpFrom(t *testing.T, cluster *pgserver.Cluster, sourceURL, fixture string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, sourceURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, fixture); err != nil {
		t.Fatal(err)
	}
	return pgDump(t, cluster.BinDir(), sourceURL)
}

// sourceOf describes the dump as the pipeline would: row counts and
// sequences taken from the source database.
func sourceOf(t *testing.T, ctx context.Context, sourceURL, dump, fingerprint string) *dbcopy.Source {
	t.Helper()
	conn, err := pgx.Connect(ctx, sourceURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	catalog, err := pgcatalog.Read(ctx, conn, "public")
	if err != nil {
		t.Fatal(err)
	}
	src := testSource(dump)
	src.Fingerprint = fingerprint
	for _, tbl := range catalog.Tables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{"public", tbl.Name}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		src.Tables = append(src.Tables, dbcopy.SourceTable{Name: tbl.Name, Rows: n})
	}
	return src
}

// compareWithSource checks the inventory and every value of every table
// against the source database.
func compareWithSource(t *testing.T, ctx context.Context, tg dbcopy.Target, sourceURL string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, sourceURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	catalog, err := pgcatalog.Read(ctx, conn, "public")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := tg.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range catalog.Tables {
		want := readSource(t, ctx, conn, tbl)
		if inv.Tables[tbl.Name] != int64(len(want)) {
			t.Errorf("inventory: %s has %d rows, want %d", tbl.Name, inv.Tables[tbl.Name], len(want))
		}
		var names []string
		for _, c := range tbl.Columns {
			names = append(names, c.Name)
		}
		i := 0
		err := tg.ScanTable(ctx, tbl.Name, names, func(got []any) error {
			if i >= len(want) {
				return fmt.Errorf("%s: more rows than the source", tbl.Name)
			}
			for j := range got {
				if !samePlain(got[j], want[i][j]) {
					t.Errorf("%s row %d column %q: got %#v (%T), want %#v (%T)", tbl.Name, i, names[j], got[j], got[j], want[i][j], want[i][j])
				}
			}
			i++
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", tbl.Name, err)
		}
		if i != len(want) {
			t.Errorf("%s: scanned %d rows, want %d", tbl.Name, i, len(want))
		}
		if tbl.PrimaryKey != nil && !inv.Constraints[tbl.Name+"."+tbl.PrimaryKey.Name] {
			t.Errorf("inventory lacks primary key %s", tbl.PrimaryKey.Name)
		}
		for _, u := range tbl.Uniques {
			if !inv.Constraints[tbl.Name+"."+u.Name] {
				t.Errorf("inventory lacks unique constraint %s", u.Name)
			}
		}
		for _, idx := range tbl.Indexes {
			if !inv.Indexes[tbl.Name+"."+idx.Name] {
				t.Errorf("inventory lacks index %s", idx.Name)
			}
		}
		for _, fk := range tbl.ForeignKeys {
			if !inv.Constraints[tbl.Name+"."+fk.Name] {
				t.Errorf("inventory lacks foreign key %s", fk.Name)
			}
		}
	}
	for _, seq := range catalog.Sequences {
		next, _ := seq.NextValue()
		if got, ok := inv.Sequences[seq.Name]; !ok || got != next {
			t.Errorf("sequence %s: next value %d (present %v), want %d", seq.Name, got, ok, next)
		}
	}
}

// readSource reads a table ordered the way ScanTable orders, values in
// the forms the Target contract names.
func readSource(t *testing.T, ctx context.Context, conn *pgx.Conn, tbl *pgcatalog.Table) [][]any {
	t.Helper()
	var exprs, order []string
	for _, c := range tbl.Columns {
		e := pgx.Identifier{c.Name}.Sanitize()
		switch c.Type.Base {
		case "numeric", "uuid", "json", "jsonb", "time without time zone":
			e += "::text"
		}
		exprs = append(exprs, e)
	}
	var keys []string
	if tbl.PrimaryKey != nil {
		keys = tbl.PrimaryKey.Columns
	} else {
		for _, c := range tbl.Columns {
			keys = append(keys, c.Name)
		}
	}
	// ScanTable orders text by code point: "C" is PostgreSQL's equivalent.
	for _, k := range keys {
		term := pgx.Identifier{k}.Sanitize()
		switch tbl.Column(k).Type.Base {
		case "text", "character varying", "character":
			term += ` COLLATE "C"`
		}
		order = append(order, term)
	}
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+pgx.Identifier{"public", tbl.Name}.Sanitize()+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		values, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range values {
			values[i] = plainPG(v)
		}
		out = append(out, values)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func plainPG(v any) any {
	switch v := v.(type) {
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case float32:
		return float64(v)
	case time.Time:
		return v.UTC()
	}
	return v
}

func samePlain(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w) // NULL is an untyped nil: it fails ok
	}
	return reflect.DeepEqual(got, want)
}

// checkKeysDDL checks what the stand-in cannot prove by loading: unique
// keys over nullable columns are filtered to rows without NULLs (the
// stand-in would take many NULLs in a plain constraint too), keys over
// NOT NULL columns stay constraints, and foreign key actions SQL Server
// refuses are NO ACTION.
func checkKeysDDL(t *testing.T, ctx context.Context, db *sql.DB, schema string) {
	t.Helper()
	rows, err := db.QueryContext(ctx, `SELECT i.name, i.is_unique, i.is_unique_constraint, i.has_filter, ISNULL(i.filter_definition, N'')
FROM sys.indexes i WHERE i.object_id IN (OBJECT_ID(@p1), OBJECT_ID(@p2)) AND i.is_primary_key = 0 AND i.type > 0`,
		qualified(schema, "system$user"), qualified(schema, "myfirstmodule$order"))
	if err != nil {
		t.Fatal(err)
	}
	type index struct {
		unique, constraint, filtered bool
		filter                       string
	}
	got := map[string]index{}
	for rows.Next() {
		var name string
		var ix index
		if err := rows.Scan(&name, &ix.unique, &ix.constraint, &ix.filtered, &ix.filter); err != nil {
			t.Fatal(err)
		}
		got[name] = ix
	}
	rows.Close()
	want := map[string]index{
		"uniq_system$user_account":          {true, false, true, "[myfirstmodule$account_user] IS NOT NULL"},
		"uniq_system$user_email":            {true, true, false, ""},
		"idx_system$user_name":              {true, false, true, "[name] IS NOT NULL"},
		"uniq_myfirstmodule$order_number":   {true, false, true, "[number] IS NOT NULL"},
		"idx_myfirstmodule$order_orderdate": {false, false, false, ""},
	}
	babelfish := isBabelfish(t, db)
	for name, w := range want {
		g, ok := got[name]
		if babelfish && ok {
			// The stand-in's sys.indexes says has_filter 0 and no
			// filter_definition for every index; its PostgreSQL catalog
			// has the filter.
			g.filtered, g.filter = standInIndexFilter(t, ctx, db, schema, name)
		}
		// SQL Server prints the filter as ([col] IS NOT NULL).
		g.filter = strings.Trim(g.filter, "()")
		if !ok || g != w {
			t.Errorf("index %s: got %+v (present %v), want %+v", name, g, ok, w)
		}
	}
	actions := map[string]string{}
	rows, err = db.QueryContext(ctx, `SELECT name, delete_referential_action_desc FROM sys.foreign_keys WHERE schema_id = SCHEMA_ID(@p1)`, schema)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, action string
		if err := rows.Scan(&name, &action); err != nil {
			t.Fatal(err)
		}
		actions[name] = action
	}
	rows.Close()
	// By name: changedby is kept, owner would be a second path from
	// system$user; the self-reference is a cycle.
	for name, action := range map[string]string{
		"myfirstmodule$order_system$changedby_fk": "SET_NULL",
		"myfirstmodule$order_system$owner_fk":     "NO_ACTION",
		"system$user_system$owner_fkey":           "NO_ACTION",
	} {
		if actions[name] != action {
			t.Errorf("foreign key %s: ON DELETE %q, want %q (all: %v)", name, actions[name], action, actions)
		}
	}
}

// makeDump builds the fixture in a fresh database of cluster and dumps it
// the way Mendix does (pg_dump -O -x -Fc).
func makeDump(t *testing.T, cluster *pgserver.Cluster, fixture string) string {
	t.Helper()
	return makeDumpFrom(t, cluster, testenv.NewDatabase(t, cluster), fixture)
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

// standInIndexFilter reads an index's filter from the stand-in's
// PostgreSQL catalog, in SQL Server's spelling.
func standInIndexFilter(t *testing.T, ctx context.Context, db *sql.DB, schema, name string) (bool, string) {
	t.Helper()
	var def string
	// The stand-in keeps schema S of database D as PostgreSQL schema D_S.
	if err := db.QueryRowContext(ctx, `SELECT indexdef FROM pg_catalog.pg_indexes WHERE indexname = @p1 AND schemaname = DB_NAME() + '_' + @p2`, name, schema).Scan(&def); err != nil {
		t.Fatalf("index %s in the stand-in's catalog: %v", name, err)
	}
	i := strings.Index(def, " WHERE ")
	if i < 0 {
		return false, ""
	}
	// (("a" IS NOT NULL) AND ...) -> [a] IS NOT NULL AND ...
	filter := strings.Trim(def[i+len(" WHERE "):], "()")
	var parts []string
	for _, p := range strings.Split(filter, " AND ") {
		col := strings.Trim(strings.TrimSuffix(strings.Trim(p, "()"), " IS NOT NULL"), `"`)
		parts = append(parts, "["+col+"] IS NOT NULL")
	}
	return true, strings.Join(parts, " AND ")
}

// isBabelfish tells the stand-in from SQL Server, for the tests that must
// name one of its divergences.
func isBabelfish(t *testing.T, db *sql.DB) bool {
	t.Helper()
	var version string
	if err := db.QueryRow(`SELECT @@VERSION`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	return strings.Contains(version, "Babelfish")
}

// pgDump16 is the pg_dump 16 that comes with the stand-in (archive 1.15,
// with lz4 and zstd); its libraries sit beside it.
const pgDump16 = "/tmp/mssql-standin/install/bin/pg_dump"

// TestArchiveFormatsLoadTheSame loads one database dumped by the local
// pg_dump (archive 1.14, gzip and none) and by pg_dump 16 (1.15, every
// compression it writes) and compares every value each time.
func TestArchiveFormatsLoadTheSame(t *testing.T) {
	serverURL := sqlServerURL(t)
	db := openDB(t, serverURL)
	cluster := testenv.Postgres(t)
	sourceURL := testenv.NewDatabase(t, cluster)
	makeDumpFrom(t, cluster, sourceURL, integrationFixture)
	type variant struct{ name, pgDump, compress string }
	variants := []variant{{"1.14-gzip", filepath.Join(cluster.BinDir(), "pg_dump"), "6"}, {"1.14-none", filepath.Join(cluster.BinDir(), "pg_dump"), "0"}}
	if _, err := os.Stat(pgDump16); err == nil {
		for _, c := range []string{"none", "gzip", "lz4", "zstd"} {
			variants = append(variants, variant{"1.15-" + c, pgDump16, c})
		}
	} else {
		t.Logf("no pg_dump 16 at %s: archive 1.15 not tested", pgDump16)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			dump := filepath.Join(t.TempDir(), "db.backup")
			cmd := exec.CommandContext(ctx, v.pgDump, "-O", "-x", "-Fc", "-Z", v.compress, "-f", dump, "-d", sourceURL)
			cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(filepath.Dir(filepath.Dir(v.pgDump)), "lib"))
			if out, err := cmd.CombinedOutput(); err != nil {
				if strings.Contains(string(out), "this build does not support compression") {
					t.Skipf("%s cannot write it: %s (the archive reader's own tests cover it with written archives)", v.pgDump, bytes.TrimSpace(out))
				}
				t.Fatalf("pg_dump: %v: %s", err, out)
			}
			archive, err := pgdump.Open(dump)
			if err != nil {
				t.Fatal(err)
			}
			version := archive.Header.Version()
			archive.Close()
			if !strings.HasPrefix(v.name, version) {
				t.Fatalf("pg_dump wrote archive %s", version)
			}
			schema := testSchemaName("mxfmt")
			t.Cleanup(func() { dropTestSchema(t, db, schema) })
			opts := dbcopy.Options{Schema: schema, Jobs: 2, AllowConnected: true}
			tg := open(t, ctx, serverURL, opts)
			unlock, err := tg.Lock(ctx, 3*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			src := sourceOf(t, ctx, sourceURL, dump, "format-"+v.name)
			if _, err := tg.Preflight(ctx, src); err != nil {
				t.Fatalf("preflight: %v", err)
			}
			if err := tg.Load(ctx, src); err != nil {
				t.Fatalf("load: %v", err)
			}
			compareWithSource(t, ctx, tg, sourceURL)
		})
	}
}
