package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

func TestPlanLeavesTargetsAsTheyWere(t *testing.T) {
	cluster := testenv.Postgres(t)
	isolateCredentials(t)
	minio := testenv.MinIO(t)
	azurite := testenv.Azurite(t)
	for _, env := range []map[string]string{minio.Env(), azurite.Env()} {
		for k, v := range env {
			t.Setenv(k, v)
		}
	}
	n := 0
	unique := func(prefix string) string { n++; return fmt.Sprintf("%s%d", prefix, n) }
	// Each store: a location that exists, and one that does not.
	stores := []struct {
		name            string
		existing, ghost func(t *testing.T) string
	}{
		{"file",
			func(t *testing.T) string { return (&url.URL{Scheme: "file", Path: t.TempDir()}).String() },
			func(t *testing.T) string {
				return (&url.URL{Scheme: "file", Path: filepath.Join(t.TempDir(), "missing")}).String()
			}},
		{"s3",
			func(t *testing.T) string {
				b := unique("plan-bucket")
				minio.CreateBucket(t, b)
				return "s3://" + b + "/app"
			},
			func(t *testing.T) string { return "s3://" + unique("plan-missing") + "/app" }},
		{"azblob",
			func(t *testing.T) string {
				c := "azblob://" + unique("plan-container")
				s, err := blobsync.Open(context.Background(), c, blobsync.Options{Create: true})
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return c
			},
			func(t *testing.T) string { return "azblob://" + unique("plan-missing") }},
	}

	cases := []struct {
		name    string
		prepare string // SQL run on the target first
		ghost   bool   // the store's bucket, container or folder does not exist
		code    int
		check   string // a check that must appear, with its outcome
	}{
		{"empty target", "", false, exitcode.OK, "[ok] store writable"},
		{"non-empty target", `CREATE TABLE "myfirstmodule$leftover" (id bigint)`, false, exitcode.PreflightRefused, "[FAIL] empty schema"},
		{"--create and no store location", "", true, exitcode.OK, "[warn] store reachable"},
	}
	for _, store := range stores {
		for _, tc := range cases {
			t.Run(store.name+"/"+tc.name, func(t *testing.T) {
				db := testenv.NewDatabase(t, cluster)
				if tc.prepare != "" {
					execSQL(t, db, tc.prepare)
				}
				storeURL := store.existing(t)
				if tc.ghost {
					storeURL = store.ghost(t)
				}
				dbBefore := databaseShape(t, db)
				storeBefore := objectKeys(t, storeURL)

				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				cfg := config(t, sampleBackup, db, storeURL) // with --create
				plan, err := pipeline.Plan(ctx, cfg, "1.0.0.40", 2*time.Hour)
				if exitcode.Of(err) != tc.code {
					t.Fatalf("plan: exit %d (%v), want %d", exitcode.Of(err), err, tc.code)
				}
				var checks []string
				for _, c := range plan.Checks {
					outcome := "ok"
					switch {
					case !c.OK:
						outcome = "FAIL"
					case c.Warn:
						outcome = "warn"
					}
					checks = append(checks, "["+outcome+"] "+c.Name+": "+c.Detail)
				}
				if !strings.Contains(strings.Join(checks, "\n"), tc.check) {
					t.Fatalf("plan checks:\n%s\nwant %q", strings.Join(checks, "\n"), tc.check)
				}
				if plan.Backup.Files != 24 || len(plan.Backup.Tables) != 11 || plan.Estimate.Basis == "" {
					t.Fatalf("plan facts: %d files, %d tables, basis %q", plan.Backup.Files, len(plan.Backup.Tables), plan.Estimate.Basis)
				}
				if !plan.Options.Create || plan.Files.URL == "" {
					t.Fatalf("plan options %+v, files %+v: --create and the store's URL must reach the runbook", plan.Options, plan.Files)
				}

				if after := databaseShape(t, db); after != dbBefore {
					t.Fatalf("plan changed the database:\nbefore %s\nafter  %s", dbBefore, after)
				}
				if after := objectKeys(t, storeURL); after != storeBefore {
					t.Fatalf("plan changed the store: before %q, after %q", storeBefore, after)
				}
			})
		}
	}
}

func TestPlanStartsNoLocalCluster(t *testing.T) {
	work := t.TempDir()
	cfg := pipeline.Config{Backup: sampleBackup, DB: pipeline.LocalDB, WorkDir: work, Version: "test"}
	plan, err := pipeline.Plan(context.Background(), cfg, "", 0)
	if exitcode.Of(err) != exitcode.PreflightRefused || len(plan.Checks) == 0 || !strings.Contains(plan.Checks[0].Detail, "starts nothing") {
		t.Fatalf("plan --db local with no cluster running: exit %d (%v), checks %+v", exitcode.Of(err), err, plan.Checks)
	}
	if _, err := os.Stat(pipeline.LocalClusterDir(work)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("plan made the local cluster's folder: %v", err)
	}
}

// databaseShape lists every schema and relation of the database.
func databaseShape(t *testing.T, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT n.nspname || '.' || coalesce(c.relname, '') FROM pg_namespace n
		LEFT JOIN pg_class c ON c.relnamespace = n.oid
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(names, " ")
}

// objectKeys lists the store's keys, or says that its location is missing.
func objectKeys(t *testing.T, storeURL string) string {
	t.Helper()
	ctx := context.Background()
	store, err := blobsync.Open(ctx, storeURL, blobsync.Options{})
	if errors.Is(err, blobsync.ErrNotExist) {
		return "(no such location)"
	}
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var keys []string
	if err := store.List(ctx, func(o blobsync.ObjectInfo) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return strings.Join(keys, " ")
}
