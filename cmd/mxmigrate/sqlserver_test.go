package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/microsoft/go-mssqldb"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// These tests run the db and migrate commands into the SQL Server that
// MSSQL_TEST_DSN names (the stand-in on a developer's machine).

const sampleBackup = "../../testdata/sample.tar.gz"

// standInWait is --wait-lock for runs against the stand-in: its
// sp_getapplock locks are server-wide, not per database, so other tests
// using the same server may hold the lock for a moment.
const standInWait = "3m"

func mssqlDSN(t *testing.T) string {
	t.Helper()
	dsn := testenv.SQLServer(t)
	return dsn
}

// mssqlDatabase creates a database of its own for a test and returns the
// DSN that names it; the database goes when the test ends. A database of
// its own also gives the test its own migration lock (sp_getapplock locks
// are per database).
func mssqlDatabase(t *testing.T, dsn, prefix string) string {
	t.Helper()
	token := make([]byte, 4)
	rand.Read(token)
	name := prefix + "_" + hex.EncodeToString(token)
	admin := mssqlOpen(t, dsn)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("database", name)
	u.RawQuery = q.Encode()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return u.String()
}

func mssqlOpen(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlserver", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// withoutPostgreSQL hides every PostgreSQL binary from the process.
func withoutPostgreSQL(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(pgserver.BinDirEnv, filepath.Join(t.TempDir(), "nowhere"))
	if _, _, err := pgserver.FindBinDir(); err == nil && dirExists("/usr/lib/postgresql") {
		// FindBinDir also looks in the distribution's folder, which a test
		// cannot hide; the code under test must simply never ask.
		t.Log("PostgreSQL stays findable under /usr/lib/postgresql; the run must not look for it")
	}
}

func dirExists(p string) bool { info, err := os.Stat(p); return err == nil && info.IsDir() }

type commandReport struct {
	OK       bool     `json:"ok"`
	ExitCode int      `json:"exitCode"`
	Error    string   `json:"error"`
	Warnings []string `json:"warnings"`
	Phases   []struct {
		Name string `json:"name"`
	} `json:"phases"`
	Database *struct {
		Checksums bool `json:"checksums"`
		Tables    []struct {
			Name       string `json:"name"`
			SourceRows int64  `json:"sourceRows"`
			TargetRows int64  `json:"targetRows"`
			ContentOK  *bool  `json:"contentOk"`
		} `json:"tables"`
	} `json:"database"`
}

func (r commandReport) hasPhase(name string) bool {
	for _, p := range r.Phases {
		if p.Name == name {
			return true
		}
	}
	return false
}

func readReport(t *testing.T, path string) commandReport {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r commandReport
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("report %s: %v", path, err)
	}
	return r
}

// checkAllCompared asserts a verified run that compared every row.
func checkAllCompared(t *testing.T, r commandReport, tables int) {
	t.Helper()
	if !r.OK || r.Database == nil || !r.Database.Checksums || len(r.Database.Tables) != tables {
		t.Fatalf("report: ok %v error %q, database %+v", r.OK, r.Error, r.Database)
	}
	for _, tb := range r.Database.Tables {
		if tb.SourceRows != tb.TargetRows || tb.ContentOK == nil || !*tb.ContentOK {
			t.Errorf("table %s: %+v", tb.Name, tb)
		}
	}
}

func TestDBIntoSQLServerWithoutPostgreSQL(t *testing.T) {
	dsn := mssqlDatabase(t, mssqlDSN(t), "mxcmd")
	schema := "app"
	withoutPostgreSQL(t)
	work := t.TempDir()
	report := filepath.Join(work, "report.json")
	args := []string{"db", sampleBackup, "--db", dsn, "--schema", schema, "--checksums", "--allow-connected",
		"--work-dir", work, "--progress", "none", "--report", report, "--wait-lock", standInWait}
	if _, err := execute(t, args...); err != nil {
		t.Fatalf("db: %v", err)
	}
	first := readReport(t, report)
	checkAllCompared(t, first, 11)
	if !first.hasPhase("restore database") {
		t.Errorf("the first run loaded nothing: %+v", first.Phases)
	}

	// A second run of the same backup is a verified no-op.
	if _, err := execute(t, args...); err != nil {
		t.Fatalf("second db: %v", err)
	}
	second := readReport(t, report)
	checkAllCompared(t, second, 11)
	if second.hasPhase("restore database") {
		t.Errorf("the second run loaded again: %+v", second.Phases)
	}

	// migrate: the database and the files, into another schema.
	schema2 := "app2"
	files := (&url.URL{Scheme: "file", Path: filepath.Join(work, "files")}).String()
	if _, err := execute(t, "migrate", sampleBackup, "--db", dsn, "--schema", schema2, "--files", files, "--create", "--checksums",
		"--allow-connected", "--work-dir", work, "--progress", "none", "--report", report, "--wait-lock", standInWait); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	checkAllCompared(t, readReport(t, report), 11)

	// A schema that holds something else is refused, and left as it was.
	schema3 := "app3"
	db := mssqlOpen(t, dsn)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("EXEC (N'CREATE SCHEMA [%s]'); EXEC (N'CREATE TABLE [%s].[precious] (id int)')", schema3, schema3)); err != nil {
		t.Fatal(err)
	}
	_, err := execute(t, "db", sampleBackup, "--db", dsn, "--schema", schema3, "--allow-connected", "--work-dir", work, "--progress", "none", "--wait-lock", standInWait)
	if exitcode.Of(err) != exitcode.PreflightRefused || !strings.Contains(err.Error(), "--if-exists drop") {
		t.Fatalf("non-empty target: %v (exit %d)", err, exitcode.Of(err))
	}
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys.tables WHERE schema_id = SCHEMA_ID(@p1)", schema3).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("the refused run changed the schema: %d tables (%v)", tables, err)
	}
}

func TestConcurrentRunsLoadOnce(t *testing.T) {
	dsn := mssqlDatabase(t, mssqlDSN(t), "mxconc")
	schema := "app"
	withoutPostgreSQL(t)
	var wg sync.WaitGroup
	type outcome struct {
		loaded bool
		code   int
		err    error
	}
	results := make([]outcome, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rep, err := pipeline.DB(ctx, pipeline.Config{Backup: sampleBackup, DB: dsn, Schema: schema, AllowConnected: true,
				WaitLock: 3 * time.Minute, WorkDir: t.TempDir(), Checksums: true, Version: "test"})
			loaded := false
			if rep != nil {
				for _, p := range rep.Phases {
					loaded = loaded || p.Name == "restore database"
				}
			}
			results[i] = outcome{loaded, exitcode.Of(err), err}
		}()
	}
	wg.Wait()
	loads := 0
	for i, r := range results {
		if r.err != nil {
			t.Errorf("run %d: %v", i, r.err)
		}
		if r.loaded {
			loads++
		}
	}
	if loads != 1 {
		t.Errorf("%d runs loaded the backup, want 1 (the others wait for the lock and find it loaded)", loads)
	}

	// Without waiting, a run that finds the lock taken fails at once with
	// exit code 4.
	db := mssqlOpen(t, dsn)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got int
	if err := conn.QueryRowContext(context.Background(), `DECLARE @r int, @resource nvarchar(255) = N'mxmigrate:' + DB_NAME(); EXEC @r = sp_getapplock @Resource = @resource, @LockMode = 'Exclusive', @LockOwner = 'Session', @DbPrincipal = 'public'; SELECT @r`).Scan(&got); err != nil || got < 0 {
		t.Fatalf("hold the lock: %d %v", got, err)
	}
	_, err = pipeline.DB(context.Background(), pipeline.Config{Backup: sampleBackup, DB: dsn, Schema: schema, AllowConnected: true, WorkDir: t.TempDir(), Version: "test"})
	if exitcode.Of(err) != exitcode.LockHeld {
		t.Errorf("a run against a held lock: %v (exit %d), want exit %d", err, exitcode.Of(err), exitcode.LockHeld)
	}
}

// childEnv carries the arguments of a db run to the test binary started as
// a child process, which TestKillDuringCopyThenResume kills.
const childEnv = "MXTEST_CMD_CHILD"

func TestHelperChildRun(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("runs only as the child process of TestKillDuringCopyThenResume")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	_, err := execute(t, args...)
	t.Fatalf("the child was meant to be killed before it finished, but the run returned %v", err)
}

func TestKillDuringCopyThenResume(t *testing.T) {
	dsn := mssqlDatabase(t, mssqlDSN(t), "mxkill")
	schema := "app"
	cluster := testenv.Postgres(t)
	backup := filepath.Join(t.TempDir(), "big.tar.gz")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if _, err := samplegen.Generate(ctx, samplegen.Options{Out: backup, Cluster: cluster, Rows: 2000, BenchTables: 2, BenchRows: 400_000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	withoutPostgreSQL(t)
	work := t.TempDir()
	args := []string{"db", backup, "--db", dsn, "--schema", schema, "--allow-connected", "--work-dir", work, "--progress", "none", "--jobs", "2", "--wait-lock", standInWait}
	raw, _ := json.Marshal(args)
	child := exec.Command(os.Args[0], "-test.run=^TestHelperChildRun$", "-test.v")
	child.Env = append(os.Environ(), childEnv+"="+string(raw))
	var out bytes.Buffer
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill() })
	exited := make(chan struct{})
	go func() { _ = child.Wait(); close(exited) }()

	// Kill it once a table is done and another is being copied, some of
	// its batches committed.
	db := mssqlOpen(t, dsn)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var done, copying int
		err := db.QueryRowContext(ctx, `IF OBJECT_ID(N'[mxmigrate].[load_table]', N'U') IS NULL SELECT 0, 0
ELSE SELECT ISNULL(SUM(CASE WHEN [status] = N'done' THEN 1 ELSE 0 END), 0), ISNULL(SUM(CASE WHEN [status] = N'copying' THEN 1 ELSE 0 END), 0)
FROM [mxmigrate].[load_table] WHERE [target_schema] = @p1`, schema).Scan(&done, &copying)
		if err != nil {
			t.Fatal(err)
		}
		if done > 0 && copying > 0 {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the child ended before it could be killed; output:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child never got to copying (done %d, copying %d); output:\n%s", done, copying, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	var status string
	if err := db.QueryRowContext(ctx, `SELECT [status] FROM [mxmigrate].[load] WHERE [target_schema] = @p1`, schema).Scan(&status); err != nil || status != "loading" {
		t.Fatalf("state after the kill: %q %v; child output:\n%s", status, err, out.String())
	}

	report := filepath.Join(work, "report.json")
	if _, err := execute(t, append(args, "--checksums", "--report", report)...); err != nil {
		t.Fatalf("resume: %v", err)
	}
	r := readReport(t, report)
	checkAllCompared(t, r, len(r.Database.Tables))
}

// TestPlanForSQLServer runs plan against SQL Server: every check, the
// dump's schema and unique keys included, and nothing written.
func TestPlanForSQLServer(t *testing.T) {
	dsn := mssqlDatabase(t, mssqlDSN(t), "mxplan")
	withoutPostgreSQL(t)
	out, err := execute(t, "plan", sampleBackup, "--db", dsn, "--schema", "app", "--allow-connected", "--work-dir", t.TempDir(), "--progress", "none")
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	for _, want := range []string{"types", "collation"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not show the %s check:\n%s", want, out)
		}
	}
	var objects int
	if err := mssqlOpen(t, dsn).QueryRow("SELECT COUNT(*) FROM sys.objects WHERE schema_id = SCHEMA_ID(N'app') OR schema_id = SCHEMA_ID(N'mxmigrate')").Scan(&objects); err != nil || objects != 0 {
		t.Errorf("plan wrote %d objects (%v)", objects, err)
	}
}
