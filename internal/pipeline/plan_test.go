package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pipeline"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

func TestPlanLeavesTargetsAsTheyWere(t *testing.T) {
	cluster := testenv.Postgres(t)
	isolateCredentials(t)
	minio := testenv.MinIO(t)
	for k, v := range minio.Env() {
		t.Setenv(k, v)
	}
	minio.CreateBucket(t, "plan-bucket")
	storeURL := "s3://plan-bucket/app"

	cases := []struct {
		name    string
		prepare string // SQL run on the target first
		code    int
		check   string // a check that must appear, with its outcome
	}{
		{"empty target", "", exitcode.OK, "[ok] empty schema"},
		{"non-empty target", `CREATE TABLE "myfirstmodule$leftover" (id bigint)`, exitcode.PreflightRefused, "[FAIL] empty schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := testenv.NewDatabase(t, cluster)
			if tc.prepare != "" {
				execSQL(t, db, tc.prepare)
			}
			dbBefore := databaseShape(t, db)
			storeBefore := objectKeys(t, storeURL)

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			plan, err := pipeline.Plan(ctx, config(t, sampleBackup, db, storeURL), "1.0.0.40", 2*time.Hour)
			if exitcode.Of(err) != tc.code {
				t.Fatalf("plan: exit %d (%v), want %d", exitcode.Of(err), err, tc.code)
			}
			var checks []string
			for _, c := range plan.Checks {
				outcome := "ok"
				if !c.OK {
					outcome = "FAIL"
				}
				checks = append(checks, "["+outcome+"] "+c.Name)
			}
			if !strings.Contains(strings.Join(checks, "\n"), tc.check) {
				t.Fatalf("plan checks:\n%s\nwant %q", strings.Join(checks, "\n"), tc.check)
			}
			if plan.Backup.Files != 24 || len(plan.Backup.Tables) != 11 || plan.Estimate.Basis == "" {
				t.Fatalf("plan facts: %d files, %d tables, basis %q", plan.Backup.Files, len(plan.Backup.Tables), plan.Estimate.Basis)
			}

			if after := databaseShape(t, db); after != dbBefore {
				t.Fatalf("plan changed the database:\nbefore %s\nafter  %s", dbBefore, after)
			}
			if after := objectKeys(t, storeURL); after != storeBefore {
				t.Fatalf("plan left objects in the store: before %q, after %q", storeBefore, after)
			}
		})
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

func objectKeys(t *testing.T, storeURL string) string {
	t.Helper()
	ctx := context.Background()
	store, err := blobsync.Open(ctx, storeURL, blobsync.Options{})
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
