package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// childEnv carries a childJob to the test binary run as a child process.
const childEnv = "MXTEST_PGTEST_CHILD"

type childJob struct {
	URL    string
	Source *dbcopy.Source
	Jobs   int
}

// TestHelperChildLoad is not a test: it is the child process that
// TestKillDuringDataThenResume kills with SIGKILL.
func TestHelperChildLoad(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("runs only as the child process of TestKillDuringDataThenResume")
	}
	var job childJob
	if err := json.Unmarshal([]byte(raw), &job); err != nil {
		t.Fatal(err)
	}
	opts := dbcopy.Options{Jobs: job.Jobs}
	_, err := migrate(context.Background(), openTarget(t, job.URL, opts), job.Source, opts, time.Minute)
	t.Fatalf("the child was meant to be killed before it finished, but Load returned %v", err)
}

// loadUntil leaves target as a run does when it enters phase until.
func loadUntil(t *testing.T, target, until string) {
	t.Helper()
	f := sourceFixture(t)
	ctx := testCtx(t)
	tg := openTarget(t, target, dbcopy.Options{})
	unlock, err := tg.Lock(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := tg.loadUntil(ctx, f.src, dbcopy.Options{}, until); err != nil {
		t.Fatalf("load until %s: %v", until, err)
	}
	if phase, _ := stateOf(t, target); phase != until {
		t.Fatalf("state after loading until %s is %q", until, phase)
	}
}

func TestKillDuringDataThenResume(t *testing.T) {
	f := sourceFixture(t)
	target := newDatabase(t)
	loadUntil(t, target, phaseData)
	// The bulk table's COPY waits behind this lock, so the child is
	// surely killed in the middle of the data phase. SHARE mode lets the
	// row counts through and stops only writers.
	blocker := blockTable(t, target, "myfirstmodule$bulk")

	job, err := json.Marshal(childJob{URL: target, Source: f.src, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestHelperChildLoad$", "-test.v")
	child.Env = append(os.Environ(), childEnv+"="+string(job))
	var childOut bytes.Buffer
	child.Stdout, child.Stderr = &childOut, &childOut
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill() })

	// Kill it once every other table's data has landed and the bulk COPY
	// is waiting.
	waitForBlockedRestore(t, target)
	waitUntil(t, "the other tables to be loaded", func() bool { return otherTablesLoaded(t, target, "myfirstmodule$bulk") })
	orphans := restoreSessionsWhere(t, target, " AND wait_event_type = 'Lock'")
	if len(orphans) == 0 {
		t.Fatal("no pg_restore session is waiting on the blocked table")
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if phase, _ := stateOf(t, target); phase != phaseData {
		t.Fatalf("state after the kill = %q, want data; child output:\n%s", phase, childOut.String())
	}
	// The hazard the resume must handle: pg_restore died with the child,
	// but its worker's COPY is still queued on the server.
	left := restoreSessions(t, target)
	for _, pid := range orphans {
		if !slices.Contains(left, pid) {
			t.Fatalf("after the kill, pg_restore sessions %v lack the blocked worker's %d", left, pid)
		}
	}

	resumed := make(chan error, 1)
	go func() {
		_, err := migrate(testCtx(t), openTarget(t, target, dbcopy.Options{Jobs: 2}), f.src, dbcopy.Options{Jobs: 2}, time.Minute)
		resumed <- err
	}()
	// Only once the orphan is gone does the table lock go: had the orphan
	// survived, its COPY would commit next to the resume's, twice the rows.
	waitUntil(t, "the resume to end the orphaned COPY", func() bool {
		left := restoreSessions(t, target)
		for _, pid := range orphans {
			if slices.Contains(left, pid) {
				return false
			}
		}
		return true
	})
	releaseBlock(t, blocker)
	if err := <-resumed; err != nil {
		t.Fatalf("resume: %v", err)
	}
	verifyLoaded(t, target)
	waitUntil(t, "the orphaned pg_restore processes to exit", func() bool { return len(restoreProcesses(t, target)) == 0 })
}

// otherTablesLoaded says whether every table but skip has its rows.
func otherTablesLoaded(t *testing.T, target, skip string) bool {
	t.Helper()
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	for _, tb := range sourceFixture(t).src.Tables {
		if tb.Name == skip {
			continue
		}
		var n int64
		if err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM "+tableRef{"public", tb.Name}.sql()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != tb.Rows {
			return false
		}
	}
	return true
}
