package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/blobsync"
	_ "github.com/mxmigrate/mxmigrate/dbcopy/postgres"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
	"github.com/mxmigrate/mxmigrate/verify"
)

const sampleBackup = "../testdata/sample.tar.gz"

// storeKind starts a store server and returns a fresh, empty store URL.
type storeKind struct {
	name  string
	fresh func(t *testing.T) string
}

func storeKinds(t *testing.T) []storeKind {
	isolateCredentials(t)
	minio := testenv.MinIO(t)
	azurite := testenv.Azurite(t)
	for k, v := range minio.Env() {
		t.Setenv(k, v)
	}
	for k, v := range azurite.Env() {
		t.Setenv(k, v)
	}
	n := 0
	next := func(prefix string) string { n++; return fmt.Sprintf("%s%d", prefix, n) }
	return []storeKind{
		{"file", func(t *testing.T) string {
			return (&url.URL{Scheme: "file", Path: filepath.Join(t.TempDir(), "files")}).String()
		}},
		{"s3", func(t *testing.T) string {
			bucket := next("bucket")
			minio.CreateBucket(t, bucket)
			return "s3://" + bucket + "/app"
		}},
		{"azblob", func(t *testing.T) string { return "azblob://" + next("container") }},
	}
}

// isolateCredentials keeps the developer's own cloud configuration out.
func isolateCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"} {
		t.Setenv(k, "")
	}
}

func config(t *testing.T, backup, db, files string) pipeline.Config {
	return pipeline.Config{Backup: backup, DB: db, Files: files, WorkDir: t.TempDir(), Create: true, Transfers: 4, Version: "test"}
}

func run(t *testing.T, name string, f func(context.Context, pipeline.Config) (*verify.Report, error), cfg pipeline.Config) (*verify.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := f(ctx, cfg)
	if rep == nil {
		t.Fatalf("%s returned no report (err %v)", name, err)
	}
	return rep, err
}

func TestMigrateVerifiesAndVerifyCatchesTampering(t *testing.T) {
	cluster := testenv.Postgres(t)
	for _, store := range storeKinds(t) {
		t.Run(store.name, func(t *testing.T) {
			db := testenv.NewDatabase(t, cluster)
			files := store.fresh(t)
			cfg := config(t, sampleBackup, db, files)

			rep, err := run(t, "migrate", pipeline.Migrate, cfg)
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if !rep.OK || rep.Upload.Uploaded != 24 || rep.Blobs.Matched != 24 || rep.DB.TotalRows() != 556 {
				t.Fatalf("migrate report: ok=%v uploaded=%d matched=%d rows=%d", rep.OK, rep.Upload.Uploaded, rep.Blobs.Matched, rep.DB.TotalRows())
			}

			// A rerun does nothing new: the database is already done, every
			// object is skipped, and it still verifies.
			rep, err = run(t, "migrate again", pipeline.Migrate, cfg)
			if err != nil || rep.Upload.Skipped != 24 || rep.Upload.Uploaded != 0 {
				t.Fatalf("rerun: err %v, upload %+v", err, rep.Upload)
			}

			vcfg := cfg
			vcfg.Checksums = true
			if rep, err := run(t, "verify", pipeline.Verify, vcfg); err != nil || !rep.OK {
				t.Fatalf("verify of a clean migration: %v", err)
			}

			// A deleted object is lost on the way, not missing in the source.
			victim := deleteOneObject(t, files)
			rep, err = run(t, "verify", pipeline.Verify, vcfg)
			if exitcode.Of(err) != exitcode.VerifyFailed || !contains(rep.Blobs.Lost, victim) {
				t.Fatalf("deleted object %s: exit %d, lost %v", victim, exitcode.Of(err), rep.Blobs.Lost)
			}
		})
	}
}

func TestVerifyCatchesDatabaseChanges(t *testing.T) {
	cluster := testenv.Postgres(t)
	cases := []struct {
		name      string
		change    string
		checksums bool
		want      string // a substring of the report's problems
	}{
		{"deleted row", `DELETE FROM "myfirstmodule$order" WHERE id = 17`, false, "myfirstmodule$order: 203 rows in the backup, 202 in the target"},
		{"changed value", `UPDATE "myfirstmodule$order" SET total = total + 0.00000001 WHERE id = 42`, true, "id=42"},
		{"changed text", `UPDATE "system$user" SET name = 'someone else' WHERE id = 3`, true, "id=3"},
		{"dropped index", `DROP INDEX "idx_myfirstmodule$order_createddate"`, false, "idx_myfirstmodule$order_createddate"},
		{"sequence behind", `SELECT setval('"myfirstmodule$order_number_mxseq"', 5)`, false, "myfirstmodule$order_number_mxseq"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := testenv.NewDatabase(t, cluster)
			cfg := config(t, sampleBackup, db, "")
			if _, err := run(t, "db", pipeline.DB, cfg); err != nil {
				t.Fatalf("db: %v", err)
			}
			execSQL(t, db, tc.change)
			cfg.Checksums = tc.checksums
			rep, err := run(t, "verify", pipeline.Verify, cfg)
			if exitcode.Of(err) != exitcode.VerifyFailed {
				t.Fatalf("verify after %s: exit %d (%v), want %d", tc.name, exitcode.Of(err), err, exitcode.VerifyFailed)
			}
			problems := strings.Join(rep.DB.Problems(), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Fatalf("verify after %s reported:\n%s\nwant a line containing %q", tc.name, problems, tc.want)
			}
		})
	}
}

func TestBlobMissingInTheBackupIsNotLost(t *testing.T) {
	cluster := testenv.Postgres(t)
	backup := filepath.Join(t.TempDir(), "damaged.tar.gz")
	ctx := context.Background()
	res, err := samplegen.Generate(ctx, samplegen.Options{Out: backup, Cluster: cluster, Rows: 20, Blobs: 6, BlobMedian: 500, BlobMax: 2000, MissingBlobs: 2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(t, backup, testenv.NewDatabase(t, cluster), (&url.URL{Scheme: "file", Path: t.TempDir()}).String())
	rep, err := run(t, "migrate", pipeline.Migrate, cfg)
	if err != nil {
		t.Fatalf("migrate: %v (a blob missing at the source is reported, not a failure)", err)
	}
	if len(rep.Blobs.MissingInBackup) != 2 || len(rep.Blobs.Lost) != 0 || rep.Blobs.Matched != len(res.Blobs) {
		t.Fatalf("files report: missing in backup %v, lost %v, matched %d of %d", rep.Blobs.MissingInBackup, rep.Blobs.Lost, rep.Blobs.Matched, len(res.Blobs))
	}
}

func TestConcurrentMigrationsMigrateOnce(t *testing.T) {
	cluster := testenv.Postgres(t)
	db := testenv.NewDatabase(t, cluster)
	files := (&url.URL{Scheme: "file", Path: t.TempDir()}).String()
	for _, wait := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprintf("wait-lock=%s", wait), func(t *testing.T) {
			const replicas = 4
			var wg sync.WaitGroup
			codes := make([]int, replicas)
			for i := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cfg := config(t, sampleBackup, db, files)
					cfg.WaitLock = wait
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
					defer cancel()
					_, err := pipeline.Migrate(ctx, cfg)
					codes[i] = exitcode.Of(err)
				}()
			}
			wg.Wait()
			succeeded := 0
			for _, code := range codes {
				switch {
				case code == exitcode.OK:
					succeeded++
				case code == exitcode.LockHeld && wait == 0:
				default:
					t.Fatalf("exit codes %v: want only 0 and, without --wait-lock, 4", codes)
				}
			}
			if succeeded == 0 || (wait > 0 && succeeded != replicas) {
				t.Fatalf("exit codes %v", codes)
			}
			// Exactly one copy of the data, whatever the interleaving.
			if rep, err := run(t, "verify", pipeline.Verify, config(t, sampleBackup, db, files)); err != nil || !rep.OK {
				t.Fatalf("verify after concurrent runs: %v", err)
			}
		})
	}
}

// TestInterruptedMigrationResumes interrupts a migration at known moments
// (a log record the run writes there cancels it, whatever the machine's
// speed), proves that it was interrupted (exit 130, the target verifiably
// incomplete), then checks that a rerun finishes it.
func TestInterruptedMigrationResumes(t *testing.T) {
	cluster := testenv.Postgres(t)
	const sampleBlobs = 24
	points := []struct {
		name  string
		msg   string // cancel when the n-th record with this message prefix is logged
		n     int
		files int // the most objects the store may hold after the interruption
	}{
		// The dump is read and checked, nothing is written yet.
		{"at the preflight", "preflight ", 1, 0},
		// The database loads while the first blobs are uploaded; the walk
		// stops at the next blob and at most the running uploads finish.
		{"after the first upload", "blob done", 1, sampleBlobs - 1},
	}
	for _, p := range points {
		t.Run(p.name, func(t *testing.T) {
			db := testenv.NewDatabase(t, cluster)
			files := (&url.URL{Scheme: "file", Path: t.TempDir()}).String()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			hook := &interruptAt{msg: p.msg, n: p.n, cancel: cancel}
			cfg := config(t, sampleBackup, db, files)
			cfg.Log = slog.New(hook)
			_, err := pipeline.Migrate(ctx, cfg)
			if !hook.fired() {
				t.Fatalf("the run never logged %q (exit %d, %v): the interruption point is gone", p.msg, exitcode.Of(err), err)
			}
			if code := exitcode.Of(err); code != exitcode.Interrupted {
				t.Fatalf("interrupted run: exit %d (%v), want %d", code, err, exitcode.Interrupted)
			}
			if n := countObjects(t, files); n > p.files {
				t.Fatalf("the store holds %d objects after the interruption, want at most %d", n, p.files)
			}
			if rep, err := run(t, "verify", pipeline.Verify, config(t, sampleBackup, db, files)); err == nil || rep.OK {
				t.Fatal("verify passed after an interrupted migration: the interruption came too late to prove anything")
			}

			rep, err := run(t, "migrate", pipeline.Migrate, config(t, sampleBackup, db, files))
			if err != nil || !rep.OK {
				t.Fatalf("resumed migration: %v", err)
			}
			if got := rep.Upload.Uploaded + rep.Upload.Skipped; got != sampleBlobs || rep.Blobs.Matched != sampleBlobs || rep.DB.TotalRows() != 556 {
				t.Fatalf("resumed migration: %d blobs uploaded or skipped, %d matched, %d rows; want %d, %d, 556",
					got, rep.Blobs.Matched, rep.DB.TotalRows(), sampleBlobs, sampleBlobs)
			}
		})
	}
}

// interruptAt is a log handler that cancels the run when the n-th record
// whose message starts with msg is logged.
type interruptAt struct {
	msg    string
	n      int
	cancel context.CancelFunc

	mu   sync.Mutex
	seen int
}

func (h *interruptAt) Enabled(context.Context, slog.Level) bool { return true }

func (h *interruptAt) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, h.msg) {
		h.mu.Lock()
		h.seen++
		if h.seen == h.n {
			h.cancel()
		}
		h.mu.Unlock()
	}
	return nil
}

func (h *interruptAt) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *interruptAt) WithGroup(string) slog.Handler      { return h }

func (h *interruptAt) fired() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen >= h.n
}

func countObjects(t *testing.T, storeURL string) int {
	t.Helper()
	ctx := context.Background()
	store, err := blobsync.Open(ctx, storeURL, blobsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	n := 0
	if err := store.List(ctx, func(blobsync.ObjectInfo) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBadInputExitCodes(t *testing.T) {
	notABackup := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notABackup, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  pipeline.Config
		want string
	}{
		{"not a backup", pipeline.Config{Backup: notABackup, DB: "postgres://u@127.0.0.1:1/db"}, "notes.txt"},
		{"missing backup", pipeline.Config{Backup: "/nonexistent/backup.tar.gz", DB: "postgres://u@127.0.0.1:1/db"}, "backup.tar.gz"},
		{"unknown scheme", pipeline.Config{Backup: sampleBackup, DB: "mysql://u:hunter2@127.0.0.1/db"}, "mysql"},
		{"bad if-exists", pipeline.Config{Backup: sampleBackup, DB: "local", IfExists: "truncate"}, "--if-exists"},
		{"no db", pipeline.Config{Backup: sampleBackup}, "--db"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.WorkDir = t.TempDir()
			rep, err := pipeline.DB(context.Background(), tc.cfg)
			if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v (exit %d), want exit %d mentioning %q", err, exitcode.Of(err), exitcode.BadInput, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(rep.Error, "hunter2") {
				t.Fatalf("a password leaked into the error: %v", err)
			}
		})
	}
}

func deleteOneObject(t *testing.T, storeURL string) string {
	t.Helper()
	ctx := context.Background()
	store, err := blobsync.Open(ctx, storeURL, blobsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var victim string
	errStop := errors.New("stop")
	err = store.List(ctx, func(o blobsync.ObjectInfo) error { victim = o.Key; return errStop })
	if err != nil && !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	if victim == "" {
		t.Fatal("the store is empty")
	}
	if err := store.Delete(ctx, victim); err != nil {
		t.Fatal(err)
	}
	return victim
}

func execSQL(t *testing.T, dbURL, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
