package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// TestPlanAndRunbookForEveryTarget runs plan and runbook (with --k8s) as a
// user would, for each database kind and each store: PostgreSQL always,
// the SQL Server of MSSQL_TEST_DSN when set; a folder, S3 (MinIO) and
// Azure Blob Storage (Azurite).
func TestPlanAndRunbookForEveryTarget(t *testing.T) {
	cluster := testenv.Postgres(t)
	isolateCloudCredentials(t)
	minio := testenv.MinIO(t)
	azurite := testenv.Azurite(t)
	for _, env := range []map[string]string{minio.Env(), azurite.Env()} {
		for k, v := range env {
			t.Setenv(k, v)
		}
	}
	n := 0
	unique := func(prefix string) string { n++; return fmt.Sprintf("%s%d", prefix, n) }

	type kind struct {
		name  string
		fresh func(t *testing.T) string
	}
	databases := []kind{{"postgres", func(t *testing.T) string { return testenv.NewDatabase(t, cluster) }}}
	if dsn := os.Getenv("MSSQL_TEST_DSN"); dsn != "" {
		databases = append(databases, kind{"sqlserver", func(t *testing.T) string { return sqlServerDatabase(t, dsn) }})
	} else {
		t.Log("MSSQL_TEST_DSN is not set: no SQL Server target")
	}
	stores := []kind{
		{"file", func(t *testing.T) string { return (&url.URL{Scheme: "file", Path: t.TempDir()}).String() }},
		{"s3", func(t *testing.T) string { b := unique("bucket"); minio.CreateBucket(t, b); return "s3://" + b }},
		{"azblob", func(t *testing.T) string {
			c := "azblob://" + unique("container")
			s, err := blobsync.Open(context.Background(), c, blobsync.Options{Create: true})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			return c
		}},
	}
	const backup = "../../testdata/sample.tar.gz"
	for _, db := range databases {
		for _, store := range stores {
			t.Run(db.name+"-"+store.name, func(t *testing.T) {
				dbURL, storeURL, dir := db.fresh(t), store.fresh(t), t.TempDir()
				targets := []string{backup, "--db", dbURL, "--files", storeURL, "--work-dir", filepath.Join(dir, "work"), "--progress", "none"}

				out, err := execute(t, append([]string{"plan"}, targets...)...)
				// The stand-in's application locks are one namespace for
				// every database (SQL Server's are per database), so other
				// tests' migrations hold ours: wait for them there only.
				for deadline := time.Now().Add(3 * time.Minute); db.name == "sqlserver" && standInLockTaken(t, err) && time.Now().Before(deadline); {
					time.Sleep(2 * time.Second)
					out, err = execute(t, append([]string{"plan"}, targets...)...)
				}
				if err != nil {
					if db.name == "sqlserver" && strings.Contains(err.Error(), "pg_restore into the staging database") {
						t.Skip("plan for SQL Server restores a staging database with pg_restore (issue 14); the SQL Server target without staging (branch mssqldirect) removes that: drop this skip when it is merged")
					}
					t.Fatalf("plan: %v\n%s", err, out)
				}
				for _, want := range []string{"Plan for sample.tar.gz", "[ok  ] store writable", "Nothing was written"} {
					if !strings.Contains(out, want) {
						t.Errorf("plan output lacks %q:\n%s", want, out)
					}
				}
				if strings.Contains(out, "Stand-in.Pass1") {
					t.Errorf("plan printed the password:\n%s", out)
				}

				doc, k8s := filepath.Join(dir, "runbook.md"), filepath.Join(dir, "k8s")
				args := append([]string{"runbook"}, targets...)
				args = append(args, "-o", doc, "--k8s", k8s, "--k8s-files-claim", "app-files")
				if _, err := execute(t, args...); err != nil {
					t.Fatalf("runbook: %v", err)
				}
				text, err := os.ReadFile(doc)
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"mxmigrate migrate", "mxmigrate verify", `--db "$MXMIGRATE_DB"`} {
					if !strings.Contains(string(text), want) {
						t.Errorf("runbook lacks %q", want)
					}
				}
				if strings.Contains(string(text), "Stand-in.Pass1") {
					t.Error("the runbook holds the password")
				}
				if _, err := os.Stat(filepath.Join(k8s, "cutover.sh")); err != nil {
					t.Errorf("runbook --k8s: %v", err)
				}
			})
		}
	}
}

// TestRunbookK8sNamesTheFolder: a file:// target needs a claim to mount at
// its folder, and the message says which folder.
func TestRunbookK8sNamesTheFolder(t *testing.T) {
	cluster := testenv.Postgres(t)
	folder := t.TempDir()
	_, err := execute(t, "runbook", "../../testdata/sample.tar.gz", "--db", testenv.NewDatabase(t, cluster),
		"--files", (&url.URL{Scheme: "file", Path: folder}).String(), "--work-dir", t.TempDir(), "--progress", "none",
		"-o", filepath.Join(t.TempDir(), "runbook.md"), "--k8s", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "the folder "+folder+":") || !strings.Contains(err.Error(), "--k8s-files-claim") {
		t.Fatalf("runbook --k8s without a claim: %v, want the folder %s and the flag named", err, folder)
	}
}

// sqlServerDatabase creates a database of its own on the server of dsn,
// drops it when the test ends, and returns its URL.
func sqlServerDatabase(t *testing.T, dsn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := sql.Open("sqlserver", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "mxplan_" + rand.Text()[:10]
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var err error
		for range 3 { // the stand-in sometimes reports a concurrent catalog update
			if _, err = admin.ExecContext(ctx, "DROP DATABASE "+name); err == nil {
				return
			}
			time.Sleep(time.Second)
		}
		t.Logf("drop database %s: %v", name, err)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("database", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// isolateCloudCredentials keeps the developer's own cloud configuration out.
func isolateCloudCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"} {
		t.Setenv(k, "")
	}
}

// standInLockTaken reports whether err is the Babelfish stand-in's answer
// for an application lock that another session holds (-999, where SQL
// Server answers -1).
func standInLockTaken(t *testing.T, err error) bool {
	if err == nil || !strings.Contains(err.Error(), "sp_getapplock returned -999") {
		return false
	}
	db, oerr := sql.Open("sqlserver", os.Getenv("MSSQL_TEST_DSN"))
	if oerr != nil {
		return false
	}
	defer db.Close()
	var version string
	if db.QueryRow("SELECT @@VERSION").Scan(&version) != nil {
		return false
	}
	if strings.Contains(version, "Babelfish") {
		t.Log("the stand-in's migration lock is taken (by another test's database): waiting")
		return true
	}
	return false
}
