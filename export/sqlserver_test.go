package export_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"maps"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/microsoft/go-mssqldb"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	_ "github.com/mxmigrate/mxmigrate/dbcopy/sqlserver"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// sqlServerDatabase creates a database of its own on MSSQL_TEST_DSN's
// server (so that no other test's session counts as the app) and returns
// its URL; the database is dropped at the end.
func sqlServerDatabase(t *testing.T) string {
	t.Helper()
	dsn := testenv.SQLServer(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	token := make([]byte, 4)
	rand.Read(token)
	name := "mxexport_" + hex.EncodeToString(token)
	admin, err := sql.Open("sqlserver", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE ["+name+"]"); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE ["+name+"]"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	q := u.Query()
	q.Set("database", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestRoundTripSQLServer: the sample backup migrated into SQL Server and
// Azure Blob Storage (Azurite), exported again, verifies against that
// target and holds the same rows and blobs as the original.
func TestRoundTripSQLServer(t *testing.T) {
	db := sqlServerDatabase(t)
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	for _, k := range []string{"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"} {
		t.Setenv(k, "")
	}
	azurite := testenv.Azurite(t)
	for k, v := range azurite.Env() {
		t.Setenv(k, v)
	}
	files := "azblob://roundtrip"
	original := readBackup(t, sampleBackup)

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cfg := pipeline.Config{Backup: sampleBackup, DB: db, Files: files, WorkDir: t.TempDir(), Create: true, Transfers: 4, Version: "test",
		// The stand-in's application locks are server-wide: other tests'
		// runs on the same server may hold it for a while.
		WaitLock: 3 * time.Minute}
	if rep, err := pipeline.Migrate(ctx, cfg); err != nil || !rep.OK {
		t.Fatalf("migrate into SQL Server: %v", err)
	}
	out := filepath.Join(t.TempDir(), "export.tar.gz")
	exportToWaiting(t, db, files, out, 3*time.Minute)

	vcfg := cfg
	vcfg.Backup, vcfg.Checksums = out, true
	if rep, err := pipeline.Verify(ctx, vcfg); err != nil || !rep.OK {
		t.Fatalf("verify --checksums of the export against SQL Server: %v", err)
	}
	exported := readBackup(t, out)
	// SQL Server keeps a sequence's next value, not PostgreSQL's
	// (last value, is_called) pair: compare what nextval() returns.
	original.sequences = nextValues(t, original.sequences)
	exported.sequences = nextValues(t, exported.sequences)
	compareBackups(t, original, exported)
	if exported.meta.ModelVersion != original.meta.ModelVersion || exported.meta.FilesSize != original.meta.FilesSize {
		t.Errorf(".metadata: model %q files %d, original model %q files %d",
			exported.meta.ModelVersion, exported.meta.FilesSize, original.meta.ModelVersion, original.meta.FilesSize)
	}

	// The export restores with the real pg_restore.
	cluster := testenv.Postgres(t)
	restored := testenv.NewDatabase(t, cluster)
	testenv.PgRestore(t, cluster.BinDir(), restored, exported.dumpPath)
	// The sample's unique keys over nullable columns (filtered indexes on
	// SQL Server) come back ordinary, not NULLS NOT DISTINCT.
	keys := nullsNotDistinctKeys(t, ctx, restored)
	if len(keys) == 0 {
		t.Errorf("no unique key came back")
	}
	for key, nnd := range keys {
		if nnd {
			t.Errorf("%s came back NULLS NOT DISTINCT", key)
		}
	}
	rcfg := pipeline.Config{Backup: sampleBackup, DB: restored, WorkDir: t.TempDir(), Checksums: true, Version: "test"}
	if rep, err := pipeline.Verify(ctx, rcfg); err != nil || !rep.OK {
		t.Fatalf("verify --checksums of the original backup against the restored export: %v", err)
	}
}

// sqlServerFixture has hostile names and the type edges the SQL Server
// load tests use (SQL Server has no NaN, infinities or dates BC). No
// mixed-case names: the stand-in's catalog shows them in lower case.
const sqlServerFixture = `
CREATE TABLE "mendixsystem$version" (versionnumber varchar(30) NOT NULL, lastsyncdate timestamp, modelversion varchar(200));
INSERT INTO "mendixsystem$version" VALUES ('9.24.0', '2026-11-01 10:00:00', '3.1.4.1');
CREATE TABLE "from$where" (
	"order" bigint PRIMARY KEY,
	"user" varchar(100),
	"mixed$case" varchar(10) NOT NULL DEFAULT 'a''b',
	"group" bigint,
	"select" text
);
ALTER TABLE "from$where" ADD CONSTRAINT "uniq$user" UNIQUE ("user");
CREATE INDEX "idx$desc" ON "from$where" ("mixed$case" DESC, "group");
INSERT INTO "from$where" SELECT i, 'user ' || i, 'x' || (i % 7), i % 3, E'tab\there\\ ' || i FROM generate_series(1, 2000) i;
CREATE TABLE "child$table" (id bigint PRIMARY KEY, parent bigint REFERENCES "from$where"("order") ON DELETE CASCADE, "quote""d" text);
INSERT INTO "child$table" SELECT i, i % 100 + 1, E'line\nbreak "' || i FROM generate_series(1, 300) i;
CREATE TABLE "keys$nulls" (id bigint PRIMARY KEY, "quote""d" varchar(50), parent bigint,
	CONSTRAINT "uniq$quoted" UNIQUE NULLS NOT DISTINCT ("quote""d"));
CREATE UNIQUE INDEX "idx$parent_quoted" ON "keys$nulls" (parent, "quote""d") NULLS NOT DISTINCT;
CREATE UNIQUE INDEX "idx$quoted_id" ON "keys$nulls" ("quote""d", id);
INSERT INTO "keys$nulls" SELECT i, CASE WHEN i = 5 THEN NULL ELSE 'q"' || i END, CASE WHEN i % 2 = 0 THEN NULL ELSE i END FROM generate_series(1, 50) i;
CREATE TABLE "types$all" (
	id bigint PRIMARY KEY, total numeric(28,8), quantity integer, priority smallint, weight double precision, ratio real,
	paid boolean, signature bytea, orderdate timestamp, stamp3 timestamp(3), shipped timestamptz, due date, alarm time,
	ref uuid, code char(3), "select" text, name varchar(200));
INSERT INTO "types$all" VALUES
	(1, 99999999999999999999.99999999, -2147483648, -32768, 1e308, 1.5, true, '\x00ff00',
	 '0001-01-01 00:00:00', '2024-02-29 23:59:59.999', '0001-01-01 00:00:00+00', '0001-01-01', '00:00:00',
	 '6f9619ff-8b86-d011-b42d-00c04fc964ff', 'ab', E'back\\slash\r\n\b\f\v', ''),
	(2, -99999999999999999999.99999999, 2147483647, 32767, -1e-300, 3.4028235e+38, false, '\x',
	 '9999-12-31 23:59:59.999999', '1999-12-31 12:00:00', '9999-12-31 23:59:59.999999+00', '9999-12-31', '23:59:59.999999',
	 '00000000-0000-0000-0000-000000000000', '   ', '😀 𝄞 café', 'x'),
	(3, 0.00000001, 0, 0, 0, 0, NULL, NULL, '2020-02-29 12:34:56.000001', NULL, '2021-06-30 23:59:59.999999+02', '2024-02-29',
	 '12:00:00.5', NULL, NULL, NULL, NULL),
	(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, E'\\N', NULL);
CREATE TABLE "empty$table" (id bigint PRIMARY KEY);
CREATE SEQUENCE "from$where_mxseq";
SELECT setval('"from$where_mxseq"', 2000);
CREATE SEQUENCE "unused$mxseq";
`

// TestExportFromSQLServerHostile loads a database with hostile names and
// type edges into SQL Server, exports it, restores the export with the
// real pg_restore and verifies every row against the original dump.
func TestExportFromSQLServerHostile(t *testing.T) {
	db := sqlServerDatabase(t)
	cluster := testenv.Postgres(t)
	src := testenv.NewDatabase(t, cluster)
	execSQL(t, src, sqlServerFixture)
	dump := filepath.Join(t.TempDir(), "source.backup")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	pgDump := exec.CommandContext(ctx, filepath.Join(cluster.BinDir(), "pg_dump"), "-Fc", "-O", "-x", "-f", dump, "-d", src)
	if out, err := pgDump.CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	cfg := pipeline.Config{Backup: dump, DB: db, WorkDir: t.TempDir(), Version: "test", WaitLock: 3 * time.Minute}
	if rep, err := pipeline.DB(ctx, cfg); err != nil || !rep.OK {
		t.Fatalf("load into SQL Server: %v", err)
	}
	out := filepath.Join(t.TempDir(), "export.tar.gz")
	exportToWaiting(t, db, emptyFolderStore(t), out, 3*time.Minute)
	exported := readBackup(t, out)
	if exported.meta.ModelVersion != "3.1.4.1" || len(exported.tables["from$where"]) != 2000 || len(exported.tables["types$all"]) != 4 {
		t.Errorf("export: model %q, from$where %d rows, types$all %d rows", exported.meta.ModelVersion,
			len(exported.tables["from$where"]), len(exported.tables["types$all"]))
	}
	restored := testenv.NewDatabase(t, cluster)
	testenv.PgRestore(t, cluster.BinDir(), restored, exported.dumpPath)
	// NULLS NOT DISTINCT went to SQL Server and came back; the ordinary
	// nullable keys came back ordinary.
	want := map[string]bool{"constraint uniq$user": false, "constraint uniq$quoted": true, "index idx$parent_quoted": true, "index idx$quoted_id": false}
	if got := nullsNotDistinctKeys(t, ctx, restored); !maps.Equal(got, want) {
		t.Errorf("NULLS NOT DISTINCT after the round trip: %v, want %v", got, want)
	}
	vcfg := pipeline.Config{Backup: dump, DB: restored, WorkDir: t.TempDir(), Checksums: true, Version: "test"}
	if rep, err := pipeline.Verify(ctx, vcfg); err != nil || !rep.OK {
		var problems []string
		if rep != nil && rep.DB != nil {
			problems = rep.DB.Problems()
		}
		t.Fatalf("verify --checksums of the original dump against the restored export: %v %v", err, problems)
	}
}

// nullsNotDistinctKeys reads which unique constraints and unique indexes
// of the database at url are NULLS NOT DISTINCT.
func nullsNotDistinctKeys(t *testing.T, ctx context.Context, url string) map[string]bool {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	s, err := pgcatalog.Read(ctx, conn, "public")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, tb := range s.Tables {
		for _, u := range tb.Uniques {
			out["constraint "+u.Name] = u.NullsNotDistinct
		}
		for _, ix := range tb.Indexes {
			if ix.Unique {
				out["index "+ix.Name] = ix.NullsNotDistinct
			}
		}
	}
	return out
}
