package export_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/microsoft/go-mssqldb"

	_ "github.com/mxmigrate/mxmigrate/dbcopy/sqlserver"
	"github.com/mxmigrate/mxmigrate/internal/pipeline"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// sqlServerDatabase creates a database of its own on MSSQL_TEST_DSN's
// server (so that no other test's session counts as the app) and returns
// its URL; the database is dropped at the end.
func sqlServerDatabase(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("MSSQL_TEST_DSN")
	if dsn == "" {
		t.Skip("MSSQL_TEST_DSN is not set: no SQL Server to export from")
	}
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
	restoreDump(t, cluster.BinDir(), restored, exported.dumpPath)
	rcfg := pipeline.Config{Backup: sampleBackup, DB: restored, WorkDir: t.TempDir(), Checksums: true, Version: "test"}
	if rep, err := pipeline.Verify(ctx, rcfg); err != nil || !rep.OK {
		t.Fatalf("verify --checksums of the original backup against the restored export: %v", err)
	}
}
