package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestSecondLockIsRefusedThenWaits(t *testing.T) {
	ctx := testCtx(t)
	target := newDatabase(t)
	first := openTarget(t, target, dbcopy.Options{})
	unlock, err := first.Lock(ctx, 0)
	if err != nil {
		t.Fatalf("first Lock: %v", err)
	}

	second := openTarget(t, strings.Replace(target, "mxmigrate@", "mxmigrate:hunter22@", 1), dbcopy.Options{})
	_, err = second.Lock(ctx, 0)
	if exitcode.Of(err) != exitcode.LockHeld {
		t.Fatalf("second Lock = %v, want LockHeld", err)
	}
	if !containsAll(err.Error(), "another migration holds the lock on", dbName(t, target), "server process") || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("LockHeld error %q: want the target without password and the holder", err)
	}

	// A waiting Lock gets the lock once the first lets go.
	got := make(chan error, 1)
	waiter := openTarget(t, target, dbcopy.Options{})
	go func() {
		unlockWaiter, err := waiter.Lock(ctx, 2*time.Minute)
		if err == nil {
			defer unlockWaiter()
		}
		got <- err
	}()
	waitUntil(t, "the waiter to connect", func() bool { return countSessions(t, target, appName) >= 2 })
	select {
	case err := <-got:
		t.Fatalf("the waiter returned (%v) while the lock was held", err)
	default:
	}
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	unlock() // a second unlock is harmless
}

func TestLockHonoursCancel(t *testing.T) {
	target := newDatabase(t)
	if _, err := openTarget(t, target, dbcopy.Options{}).Lock(testCtx(t), 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	_, err := openTarget(t, target, dbcopy.Options{}).Lock(ctx, time.Hour)
	if exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("Lock with a cancelled context = %v, want Interrupted", err)
	}
}

func TestConcurrentRunsLoadOnce(t *testing.T) {
	cases := []struct {
		name string
		wait time.Duration
	}{
		{name: "no wait", wait: 0},
		{name: "waiting", wait: 3 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := sourceFixture(t)
			ctx := testCtx(t)
			target := newDatabase(t)
			const runs = 4
			type outcome struct {
				res *dbcopy.PreflightResult
				err error
			}
			outcomes := make([]outcome, runs)
			var wg sync.WaitGroup
			for i := range runs {
				tg := openTarget(t, target, dbcopy.Options{Jobs: 2})
				wg.Go(func() {
					res, err := migrate(ctx, tg, f.src, tc.wait)
					outcomes[i] = outcome{res, err}
				})
			}
			wg.Wait()
			loaded, done, held := 0, 0, 0
			for i, o := range outcomes {
				switch {
				case o.err == nil && o.res != nil && !o.res.AlreadyDone:
					loaded++
				case o.err == nil && o.res != nil && o.res.AlreadyDone:
					done++
				case exitcode.Of(o.err) == exitcode.LockHeld:
					held++
				default:
					t.Errorf("run %d: %+v %v", i, o.res, o.err)
				}
			}
			if loaded != 1 || loaded+done+held != runs {
				t.Errorf("%d loaded, %d found it done, %d found the lock held; want exactly one load", loaded, done, held)
			}
			if tc.wait > 0 && held != 0 {
				t.Errorf("%d waiting runs gave up", held)
			}
			verifyLoaded(t, target)
		})
	}
}

// countSessions counts the sessions on target's database named app.
func countSessions(t *testing.T, target, app string) int {
	t.Helper()
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	var n int
	err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1", app).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoadStopsWhenTheLockIsLost(t *testing.T) {
	f := sourceFixture(t)
	ctx := testCtx(t)
	target := newDatabase(t)
	tg := openTarget(t, target, dbcopy.Options{})
	if _, err := tg.Lock(ctx, 0); err != nil {
		t.Fatal(err)
	}
	pid := tg.lockConn.PgConn().PID()
	execSQL(t, target, fmt.Sprintf("SELECT pg_terminate_backend(%d)", pid))
	waitUntil(t, "the lock's session to end", func() bool { return !sessionAlive(t, target, pid) })
	err := tg.Load(ctx, f.src)
	if err == nil || !strings.Contains(err.Error(), "lost the migration lock") {
		t.Fatalf("Load without a live lock = %v, want a refusal", err)
	}
	if phase, _ := stateOf(t, target); phase != "" {
		t.Errorf("Load wrote state %q without the lock", phase)
	}
}

func sessionAlive(t *testing.T, target string, pid uint32) bool {
	t.Helper()
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	var alive bool
	if err := conn.QueryRow(testCtx(t), "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", int64(pid)).Scan(&alive); err != nil {
		t.Fatal(err)
	}
	return alive
}
