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
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// childEnv carries a childJob to the test binary run as a child process.
const childEnv = "MXTEST_PGTEST_CHILD"

type childJob struct {
	URL    string
	Source *dbcopy.Source
	Jobs   int
	Loader string
	// ChunkBytes > 0 splits every table into chunks of that size.
	ChunkBytes int
	// BlockAfterPart stops the load for good once a part of the split
	// table myfirstmodule$bulk has committed.
	BlockAfterPart bool
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
	if job.ChunkBytes > 0 {
		defer forceSplit(job.ChunkBytes)()
	}
	if job.BlockAfterPart {
		partCommitted = func(e *pgdump.Entry) {
			if e.Tag == "myfirstmodule$bulk" {
				select {}
			}
		}
	}
	opts := dbcopy.Options{Jobs: job.Jobs, Loader: job.Loader}
	_, err := migrate(context.Background(), openTarget(t, job.URL, opts), job.Source, time.Minute)
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
	if err := tg.loadUntil(ctx, f.src, until); err != nil {
		t.Fatalf("load until %s: %v", until, err)
	}
	if phase, _ := stateOf(t, target); phase != until {
		t.Fatalf("state after loading until %s is %q", until, phase)
	}
}

func TestKillDuringDataThenResume(t *testing.T) {
	for _, loader := range []string{LoaderNative, LoaderPgRestore} {
		t.Run(loader, func(t *testing.T) { testKillDuringDataThenResume(t, loader) })
	}
}

func testKillDuringDataThenResume(t *testing.T, loader string) {
	f := sourceFixture(t)
	target := newDatabase(t)
	loadUntil(t, target, phaseData)
	// The bulk table's COPY waits behind this lock, so the child is
	// surely killed in the middle of the data phase. SHARE mode lets the
	// row counts through and stops only writers.
	blocker := blockTable(t, target, "myfirstmodule$bulk")

	// The native loader splits the blocked table across connections: the
	// kill comes in the middle of a split table.
	job := childJob{URL: target, Source: f.src, Jobs: 3, Loader: loader}
	if loader == LoaderNative {
		job.ChunkBytes = 64 << 10
	}
	child, childOut := startChild(t, job)

	// Kill it once every other table's data has landed and the bulk COPY
	// is waiting.
	waitForBlockedRestore(t, target)
	if loader == LoaderPgRestore {
		waitUntil(t, "the other tables to be loaded", func() bool { return otherTablesLoaded(t, target, "myfirstmodule$bulk") })
	} else {
		// Idle connections join the split table rather than take small
		// ones, so they wait on the lock too.
		waitUntil(t, "several parts of the split table to wait", func() bool {
			return len(restoreSessionsWhere(t, target, " AND wait_event_type = 'Lock'")) >= 2
		})
	}
	orphans := restoreSessionsWhere(t, target, " AND wait_event_type = 'Lock'")
	if len(orphans) == 0 || (loader == LoaderNative && len(orphans) < 2) {
		t.Fatalf("%d restoring sessions are waiting on the blocked table", len(orphans))
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
		opts := dbcopy.Options{Jobs: 2, Loader: loader}
		_, err := migrate(testCtx(t), openTarget(t, target, opts), f.src, time.Minute)
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

// startChild runs job in a child process that the test kills.
func startChild(t *testing.T, job childJob) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestHelperChildLoad$", "-test.v")
	child.Env = append(os.Environ(), childEnv+"="+string(raw))
	var out bytes.Buffer
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	return child, &out
}

// TestKillBetweenSplitPartsThenResume kills a native load after some
// parts of a split table committed and before the table was recorded as
// loaded: the rerun must empty it and load it again, not add to it.
func TestKillBetweenSplitPartsThenResume(t *testing.T) {
	f := sourceFixture(t)
	target := newDatabase(t)
	child, out := startChild(t, childJob{URL: target, Source: f.src, Jobs: 3, Loader: LoaderNative, ChunkBytes: 64 << 10, BlockAfterPart: true})
	waitUntil(t, "a part of the split table to commit", func() bool {
		return tableRows(t, target, "myfirstmodule$bulk") > 0
	})
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if phase, _ := stateOf(t, target); phase != phaseData {
		t.Fatalf("state after the kill = %q, want data; child output:\n%s", phase, out)
	}
	if loadedMarks(t, target)["myfirstmodule$bulk"] {
		t.Fatal("the split table was recorded as loaded before all its parts committed")
	}
	mustMigrate(t, target, dbcopy.Options{Jobs: 3, Loader: LoaderNative})
	verifyLoaded(t, target)
}

// TestKillAtManyPointsThenResume kills a native load (SIGKILL) at points
// of every phase, the middle of a split table among them, and then lets a
// rerun finish: the target must end identical to the source.
func TestKillAtManyPointsThenResume(t *testing.T) {
	points := []struct {
		name    string
		reached func(target string) bool
	}{
		{"pre-data", func(target string) bool {
			p, _ := stateOf(t, target)
			return p == phasePreData && tableRows(t, target, "mendixsystem$version") >= 0
		}},
		{"data started", func(target string) bool { p, _ := stateOf(t, target); return p == phaseData }},
		{"split table copying on two connections", func(target string) bool {
			return len(restoreSessionsWhere(t, target, ` AND state = 'active' AND query LIKE 'COPY public."myfirstmodule$bulk"%'`)) >= 2
		}},
		{"post-data started", func(target string) bool {
			p, _ := stateOf(t, target)
			return p == phaseData && countIndexes(t, target) > 0
		}},
	}
	for _, pt := range points {
		t.Run(pt.name, func(t *testing.T) {
			f := sourceFixture(t)
			target := newDatabase(t)
			child, out := startChild(t, childJob{URL: target, Source: f.src, Jobs: 3, Loader: LoaderNative, ChunkBytes: 16 << 10})
			exited := make(chan struct{})
			go func() { _ = child.Wait(); close(exited) }()
			reached := false
		poll:
			for {
				select {
				case <-exited:
					break poll
				default:
				}
				if pt.reached(target) {
					reached = true
					_ = child.Process.Kill()
					<-exited
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			phase, _ := stateOf(t, target)
			if !reached {
				t.Logf("the load ended (phase %q) before the point was seen; output:\n%s", phase, out)
			} else {
				t.Logf("killed in phase %q", phase)
			}
			mustMigrate(t, target, dbcopy.Options{Jobs: 3, Loader: LoaderNative})
			verifyLoaded(t, target)
		})
	}
}

func countIndexes(t *testing.T, target string) int {
	t.Helper()
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	var n int
	if err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func tableRows(t *testing.T, target, table string) int64 {
	t.Helper()
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	var n int64
	if err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM "+tableRef{"public", table}.sql()).Scan(&n); err != nil {
		return -1 // not created yet
	}
	return n
}

func loadedMarks(t *testing.T, target string) map[string]bool {
	t.Helper()
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	names, err := queryStrings(testCtx(t), conn, "SELECT table_name FROM mxmigrate.loaded_table")
	if err != nil {
		return nil // not created yet
	}
	marks := map[string]bool{}
	for _, n := range names {
		marks[n] = true
	}
	return marks
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
