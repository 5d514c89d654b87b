package export_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klauspost/compress/gzip"

	_ "github.com/mxmigrate/mxmigrate/dbcopy/postgres"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

const sampleBackup = "../testdata/sample.tar.gz"

// hostileSchema has names that must be quoted ($, reserved words, mixed
// case, a double quote), a sequence owned by a column and used by its
// default, unique keys (one NULLS NOT DISTINCT, and a unique index so), a
// descending index, a foreign key, and an empty table.
const hostileSchema = `
CREATE TABLE "mendixsystem$version" (versionnumber varchar(30) NOT NULL, lastsyncdate timestamp, modelversion varchar(200));
INSERT INTO "mendixsystem$version" VALUES ('9.24.0', '2026-11-01 10:00:00', '2.3.4.5');
CREATE SEQUENCE "select$seq" AS integer START WITH 5 INCREMENT BY 2 MAXVALUE 1000000 CYCLE;
CREATE SEQUENCE "user$order_mxseq";
SELECT setval('"user$order_mxseq"', 200, true);
CREATE TABLE "from$where" (
	"order" bigint PRIMARY KEY,
	"user" text,
	"Mixed$Case" varchar(10) NOT NULL DEFAULT 'a''b',
	"table" integer DEFAULT nextval('"select$seq"'),
	"group" bigint
);
ALTER SEQUENCE "select$seq" OWNED BY "from$where"."table";
ALTER TABLE "from$where" ADD CONSTRAINT "uniq$user" UNIQUE ("user");
ALTER TABLE "from$where" ADD CONSTRAINT "uniq$user_group" UNIQUE NULLS NOT DISTINCT ("user", "order");
CREATE UNIQUE INDEX "idx$group_nnd" ON "from$where" ("group", "order") NULLS NOT DISTINCT;
CREATE INDEX "idx$desc" ON "from$where" ("Mixed$Case" DESC, "group" NULLS FIRST);
CREATE TABLE "child$table" (id bigint PRIMARY KEY, parent bigint REFERENCES "from$where"("order") ON DELETE CASCADE, "quote""d" text);
CREATE TABLE "empty$table" (id bigint PRIMARY KEY);
INSERT INTO "from$where" ("order", "user", "Mixed$Case", "group") SELECT i, 'user ' || i || E'\t\\', 'x' || (i % 7), i % 3 FROM generate_series(1, 3000) i;
INSERT INTO "child$table" SELECT i, i % 100 + 1, E'line\nbreak "' || i FROM generate_series(1, 500) i;
`

// everyTypeRows are values at the edges of each type, for
// samplegen.EveryTypeSchema (the verifier's load tests use the same).
const everyTypeRows = `
INSERT INTO "module$everytype" (id, "order", "select", total, plain, quantity, priority, weight, ratio, paid,
	signature, orderdate, stamp3, shipped, birthday, alarm, alarmtz, guid, doc, docb, tags, "Mixed Case", "quote""d") VALUES
(1, '', E'tab\there\nnew\\line', 99999999999999999999.99999999, 'NaN', 0, -32768, 'Infinity', 'NaN', true,
	'\x00ff00'::bytea, '0044-03-15 10:00:00 BC', 'infinity', '2000-01-01 00:00:00.000001+14', '0044-03-15 BC', '24:00:00',
	'15:04:05+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.50]}', '{"b": "😀"}', '{1,NULL,3}', 'ab', 1),
(2, '😀 𝄞', '', -99999999999999999999.99999999, '-0.000', 2147483647, 32767, -1e-300, 3.4028235e+38, false,
	'\x'::bytea, '0001-01-01 00:00:00', '-infinity', '1999-12-31 12:00:00-12', '9999-12-31', '00:00:00',
	'23:59:59.999999-05:30', NULL, 'null', '[]', '{}', NULL, NULL),
(3, 'trailing ', NULL, 0.00000001, 1e-20, 1, 0, '-0', 1e-45, NULL,
	'\x5c00'::bytea, '9999-12-31 23:59:59.999999', '2024-02-29 23:59:59.999', '0001-01-01 00:00:00+00', 'infinity', '12:00:00.5',
	'00:00:00+14', '00000000-0000-0000-0000-000000000000', '""', '{}', NULL, '   ', -1),
(4, E'\\N', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '-infinity', '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
}

func emptyFolderStore(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "files")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return (&url.URL{Scheme: "file", Path: dir}).String()
}

func exportTo(t *testing.T, db, files, out string) {
	t.Helper()
	exportToWaiting(t, db, files, out, 0)
}

func exportToWaiting(t *testing.T, db, files, out string, waitLock time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+waitLock)
	defer cancel()
	cfg := pipeline.ExportConfig{Config: pipeline.Config{DB: db, Files: files, WorkDir: t.TempDir(), Jobs: 3, Transfers: 4, Version: "test", WaitLock: waitLock}, Output: out}
	if _, err := pipeline.Export(ctx, cfg); err != nil {
		t.Fatalf("export: %v", err)
	}
}

// TestExportRestoresWithPgRestore exports a database with hostile names
// and every type edge, restores the archive with the real pg_restore into
// an empty database, and compares every table's digest, sequence, index,
// constraint and column with the source.
func TestExportRestoresWithPgRestore(t *testing.T) {
	cluster := testenv.Postgres(t)
	src := testenv.NewDatabase(t, cluster)
	execSQL(t, src, hostileSchema+samplegen.EveryTypeSchema+everyTypeRows)
	files := emptyFolderStore(t)
	out := filepath.Join(t.TempDir(), "export.tar.gz")
	exportTo(t, src, files, out)

	backup := readBackup(t, out)
	if backup.meta.ModelVersion != "2.3.4.5" {
		t.Errorf(".metadata modelVersion = %q, want the one in mendixsystem$version", backup.meta.ModelVersion)
	}
	st, err := os.Stat(backup.dumpPath)
	if err != nil || backup.meta.DumpSize != st.Size() {
		t.Errorf(".metadata dumpSize = %d, the dump has %d bytes (%v)", backup.meta.DumpSize, st.Size(), err)
	}
	if backup.meta.DatabaseSize <= 0 {
		t.Errorf(".metadata databaseSize = %d", backup.meta.DatabaseSize)
	}
	if len(backup.tables["from$where"]) != 3000 || len(backup.tables["empty$table"]) != 0 || len(backup.tables["module$everytype"]) != 4 {
		t.Errorf("rows read back: from$where %d, empty$table %d, module$everytype %d",
			len(backup.tables["from$where"]), len(backup.tables["empty$table"]), len(backup.tables["module$everytype"]))
	}

	want := tableDigests(t, src, "public")
	if len(want) < 40 || want["table from$where"] == "" || want["sequence select$seq"] == "" {
		t.Fatalf("source digests look incomplete: %v", want)
	}
	for _, mode := range []string{"file", "pipe", "script"} {
		t.Run(mode, func(t *testing.T) {
			restored := testenv.NewDatabase(t, cluster)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := []string{"--no-owner", "--no-privileges", "--exit-on-error", "-d", restored}
			var stdin io.Reader
			if mode == "file" {
				args = append(args, "-j", "2", backup.dumpPath)
			} else {
				f, err := os.Open(backup.dumpPath)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				stdin = f
			}
			script := filepath.Join(t.TempDir(), "restore.sql")
			if mode == "script" {
				// pg_restore -f writes SQL (COPY data included); psql runs it.
				args = []string{"--no-owner", "--no-privileges", "-f", script, backup.dumpPath}
			}
			cmd := exec.CommandContext(ctx, filepath.Join(cluster.BinDir(), "pg_restore"), args...)
			cmd.Stdin = stdin
			if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
				t.Fatalf("pg_restore: %v\n%s", err, out)
			}
			if mode == "script" {
				psql := exec.CommandContext(ctx, filepath.Join(cluster.BinDir(), "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script, "-d", restored)
				if out, err := psql.CombinedOutput(); err != nil {
					t.Fatalf("psql: %v\n%s", err, out)
				}
			}
			got := tableDigests(t, restored, "public")
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: source %q, restored %q", k, v, got[k])
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: only in the restored database", k)
				}
			}
		})
	}

	// verify accepts the export like any backup: every row's content
	// against the source it came from.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := pipeline.Verify(ctx, pipeline.Config{Backup: out, DB: src, WorkDir: t.TempDir(), Checksums: true, Version: "test"})
	if err != nil || !rep.OK {
		t.Fatalf("verify --checksums of the export against its source: %v %+v", err, rep)
	}
}

// TestRoundTrip: the sample backup migrated into PostgreSQL and a store,
// exported again, verifies against that target and holds the same rows
// and blobs as the original.
func TestRoundTrip(t *testing.T) {
	cluster := testenv.Postgres(t)
	original := readBackup(t, sampleBackup)
	if len(original.tables) != 11 || len(original.blobs) != 24 || len(original.sequences) != 2 || len(original.objects) != 16 {
		t.Fatalf("sample read as %d tables, %d blobs, %d sequences, %d indexes and constraints",
			len(original.tables), len(original.blobs), len(original.sequences), len(original.objects))
	}
	for _, store := range storeKinds(t) {
		t.Run(store.name, func(t *testing.T) {
			db := testenv.NewDatabase(t, cluster)
			files := store.fresh(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cfg := pipeline.Config{Backup: sampleBackup, DB: db, Files: files, WorkDir: t.TempDir(), Create: true, Transfers: 4, Version: "test"}
			if rep, err := pipeline.Migrate(ctx, cfg); err != nil || !rep.OK {
				t.Fatalf("migrate: %v", err)
			}
			out := filepath.Join(t.TempDir(), "export.tar.gz")
			exportTo(t, db, files, out)

			vcfg := cfg
			vcfg.Backup, vcfg.Checksums = out, true
			if rep, err := pipeline.Verify(ctx, vcfg); err != nil || !rep.OK {
				t.Fatalf("verify --checksums of the export: %v", err)
			}
			exported := readBackup(t, out)
			compareBackups(t, original, exported)

			// The export moves on like any backup: migrate it into a new
			// environment, verified row by row.
			next := pipeline.Config{Backup: out, DB: testenv.NewDatabase(t, cluster), Files: store.fresh(t), WorkDir: t.TempDir(),
				Create: true, Transfers: 4, Version: "test", Checksums: true}
			if rep, err := pipeline.Migrate(ctx, next); err != nil || !rep.OK || rep.Upload.Uploaded != len(original.blobs) {
				t.Fatalf("migrate the export: %v", err)
			}
			if exported.meta.ModelVersion != original.meta.ModelVersion || exported.meta.FilesSize != original.meta.FilesSize {
				t.Errorf(".metadata: model %q files %d, original model %q files %d",
					exported.meta.ModelVersion, exported.meta.FilesSize, original.meta.ModelVersion, original.meta.FilesSize)
			}
		})
	}
}

// TestExportToStdout writes the backup to a writer (-o -) and refuses
// while the app is connected.
func TestExportToStdoutAndRefusals(t *testing.T) {
	cluster := testenv.Postgres(t)
	src := testenv.NewDatabase(t, cluster)
	execSQL(t, src, hostileSchema)
	files := emptyFolderStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var stdout bytes.Buffer
	cfg := pipeline.ExportConfig{Config: pipeline.Config{DB: src, Files: files, WorkDir: t.TempDir(), Version: "test"}, Output: "-", Stdout: &stdout}
	if _, err := pipeline.Export(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	names := tarNames(t, stdout.Bytes())
	if len(names) < 3 || names[0] != ".metadata" || names[1] != "db/" || names[2] != "db/db.backup" {
		t.Errorf("stdout entries = %v, want .metadata, db/, db/db.backup first", names)
	}

	// Another session (the app) connected: refused, exit code 5, and no
	// file left behind.
	app, err := pgx.Connect(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	out := filepath.Join(t.TempDir(), "refused.tar.gz")
	cfg.Output = out
	_, err = pipeline.Export(ctx, cfg)
	if exitcode.Of(err) != exitcode.PreflightRefused {
		t.Fatalf("export with the app connected: exit %d, %v", exitcode.Of(err), err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*")); len(left) != 0 {
		t.Errorf("a refused export left files: %v", left)
	}
	cfg.AllowConnected = true
	if _, err := pipeline.Export(ctx, cfg); err != nil {
		t.Fatalf("--allow-connected: %v", err)
	}
	if _, err := pgdump.Open(readBackup(t, out).dumpPath); err != nil {
		t.Fatal(err)
	}
}

func tarNames(t *testing.T, data []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

// storeKind starts a store server and returns a fresh, empty store URL.
type storeKind struct {
	name  string
	fresh func(t *testing.T) string
}

func storeKinds(t *testing.T) []storeKind {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	minio := testenv.MinIO(t)
	for k, v := range minio.Env() {
		t.Setenv(k, v)
	}
	n := 0
	return []storeKind{
		{"file", func(t *testing.T) string {
			return (&url.URL{Scheme: "file", Path: filepath.Join(t.TempDir(), "files")}).String()
		}},
		{"s3", func(t *testing.T) string {
			n++
			bucket := fmt.Sprintf("bucket%d", n)
			minio.CreateBucket(t, bucket)
			return "s3://" + bucket + "/app"
		}},
	}
}
