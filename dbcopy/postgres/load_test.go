package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// recordingProgress remembers the phases and units reported.
type recordingProgress struct {
	mu     sync.Mutex
	phases []string
	totals map[string]int64
	done   map[string]int64
	cur    string
}

func (p *recordingProgress) Phase(name string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phases = append(p.phases, name)
	p.totals[name], p.cur = total, name
}

func (p *recordingProgress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[p.cur] += n
}

func TestCleanLoadCopiesEveryValue(t *testing.T) {
	for _, tc := range []struct {
		loader string
		jobs   int
	}{{LoaderNative, 1}, {LoaderNative, 3}, {LoaderPgRestore, 1}, {LoaderPgRestore, 3}} {
		loader, jobs := tc.loader, tc.jobs
		t.Run(loader+"/"+map[int]string{1: "serial", 3: "parallel"}[jobs], func(t *testing.T) {
			f := sourceFixture(t)
			ctx := testCtx(t)
			// A password the server does not need (trust) but that must
			// never show up in logs, errors or pg_restore's command line.
			u, _ := url.Parse(newDatabase(t))
			u.User = url.UserPassword(u.User.Username(), "s3cret-pw-123")
			logs := &logBuffer{}
			progress := &recordingProgress{totals: map[string]int64{}, done: map[string]int64{}}
			opts := dbcopy.Options{Jobs: jobs, Loader: loader, Log: newLogger(logs), Progress: progress}
			tg := openTarget(t, u.String(), opts)

			res, err := migrate(ctx, tg, f.src, 0)
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if res.AlreadyDone || res.Resumable {
				t.Errorf("a fresh target reported %+v", res)
			}
			verifyLoaded(t, u.String())
			if phase, fp := stateOf(t, u.String()); phase != phaseDone || fp != f.src.Fingerprint {
				t.Errorf("state = %s %s, want done %s", phase, fp, f.src.Fingerprint)
			}
			if got := strings.Join(progress.phases, ","); got != "pre-data,data and post-data" {
				t.Errorf("progress phases %q", got)
			}
			for _, phase := range progress.phases {
				if progress.totals[phase] == 0 || progress.done[phase] != progress.totals[phase] {
					t.Errorf("progress of %s: %d of %d", phase, progress.done[phase], progress.totals[phase])
				}
			}
			if !strings.Contains(logs.String(), "finished item") && jobs > 1 && loader == LoaderPgRestore {
				t.Errorf("pg_restore's verbose output did not reach the debug log")
			}
			if strings.Contains(logs.String(), "s3cret-pw-123") || strings.Contains(tg.String(), "s3cret-pw-123") {
				t.Errorf("the password leaked into the log or String()")
			}
		})
	}
}

func TestRerunOfALoadedBackupDoesNothing(t *testing.T) {
	f := sourceFixture(t)
	ctx := testCtx(t)
	target := newDatabase(t)
	mustMigrate(t, target, dbcopy.Options{})
	// Record a row version: a reload would change it.
	conn := sqlConn(t, target)
	var before, after string
	const xmin = `SELECT xmin::text FROM public."myfirstmodule$order" WHERE id = 3`
	if err := conn.QueryRow(ctx, xmin).Scan(&before); err != nil {
		t.Fatal(err)
	}

	logs := &logBuffer{}
	opts := dbcopy.Options{Log: newLogger(logs)}
	tg := openTarget(t, target, opts)
	unlock, err := tg.Lock(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	res, err := tg.Preflight(ctx, f.src)
	if err != nil || !res.AlreadyDone {
		t.Fatalf("Preflight = %+v, %v; want AlreadyDone", res, err)
	}
	// Load is idempotent too, for callers that do not look at AlreadyDone.
	if err := tg.Load(ctx, f.src); err != nil {
		t.Fatalf("Load after done: %v", err)
	}
	if err := conn.QueryRow(ctx, xmin).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if before != after || strings.Contains(logs.String(), "restoring") {
		t.Errorf("a rerun of a loaded backup rewrote data (xmin %s -> %s) or ran pg_restore:\n%s", before, after, logs.String())
	}
	verifyLoaded(t, target)
}

func TestLoadRequiresTheLock(t *testing.T) {
	f := sourceFixture(t)
	tg := openTarget(t, newDatabase(t), dbcopy.Options{})
	err := tg.Load(testCtx(t), f.src)
	if err == nil || !strings.Contains(err.Error(), "without the migration lock") {
		t.Fatalf("Load without Lock = %v, want a refusal", err)
	}
}

func TestRestoreTooOldIsBadInput(t *testing.T) {
	f := sourceFixture(t)
	src := f.copySource()
	tool, err := findRestore()
	if err != nil {
		t.Fatal(err)
	}
	src.MinRestoreMajor = tool.major + 1
	src.ArchiveVersion = "1.16"
	ctx := testCtx(t)
	target := newDatabase(t)
	opts := dbcopy.Options{Loader: LoaderPgRestore}
	tg := openTarget(t, target, opts)

	// The native loader needs no pg_restore at all.
	if res, err := openTarget(t, target, dbcopy.Options{Loader: LoaderNative}).Preflight(ctx, src); err != nil || findCheck(res, checkRestoreTool) != nil {
		t.Fatalf("native Preflight = %+v, %v; want no pg_restore check", res, err)
	}

	res, err := tg.Preflight(ctx, src)
	if exitcode.Of(err) != exitcode.BadInput {
		t.Fatalf("Preflight = %v (code %d), want bad input", err, exitcode.Of(err))
	}
	want := []string{"needs pg_restore " + itoa(tool.major+1), "is version " + itoa(tool.major), "MXMIGRATE_PG_BIN", "format 1.16"}
	if !containsAll(err.Error(), want...) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if c := findCheck(res, checkRestoreTool); c == nil || c.OK {
		t.Errorf("check %s = %+v, want a failed check", checkRestoreTool, c)
	}

	unlock, err := tg.Lock(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := tg.Load(ctx, src); exitcode.Of(err) != exitcode.BadInput {
		t.Fatalf("Load = %v, want bad input", err)
	}
	if phase, _ := stateOf(t, target); phase != "" {
		t.Errorf("a refused load recorded state %q", phase)
	}
}

func TestCancelStopsTheLoad(t *testing.T) {
	for _, loader := range []string{LoaderNative, LoaderPgRestore} {
		t.Run(loader, func(t *testing.T) { testCancelStopsTheLoad(t, loader) })
	}
}

func testCancelStopsTheLoad(t *testing.T, loader string) {
	f := sourceFixture(t)
	target := newDatabase(t)
	loadUntil(t, target, phaseData)
	blocker := blockTable(t, target, "myfirstmodule$bulk")

	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	// The server trusts loopback, so this password is unused: it is there
	// to be looked for on pg_restore's command line.
	withPassword := strings.Replace(target, "mxmigrate@", "mxmigrate:s3cret-cancel@", 1)
	opts := dbcopy.Options{Jobs: 2, Loader: loader}
	tg := openTarget(t, withPassword, opts)
	unlock, err := tg.Lock(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	done := make(chan error, 1)
	go func() { done <- tg.Load(ctx, f.src) }()

	waitForBlockedRestore(t, target)
	procs := restoreProcesses(t, target)
	if len(procs) == 0 && loader == LoaderPgRestore {
		t.Fatal("no pg_restore process found while it was blocked")
	}
	for pid, cmdline := range procs {
		if strings.Contains(cmdline, "s3cret-cancel") || strings.Contains(cmdline, "password") {
			t.Errorf("pg_restore %d has a password on its command line: %q", pid, cmdline)
		}
	}
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) || exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("cancelled Load = %v (code %d), want Interrupted", err, exitcode.Of(err))
	}
	waitUntil(t, "pg_restore processes to exit", func() bool { return len(restoreProcesses(t, target)) == 0 })
	waitUntil(t, "pg_restore sessions to end", func() bool { return len(restoreSessions(t, target)) == 0 })
	releaseBlock(t, blocker)
	unlock()

	// What the cancelled run left is resumed.
	mustMigrate(t, target, opts)
	verifyLoaded(t, target)
}

func findCheck(res *dbcopy.PreflightResult, name string) *dbcopy.Check {
	if res == nil {
		return nil
	}
	for i := range res.Checks {
		if res.Checks[i].Name == name {
			return &res.Checks[i]
		}
	}
	return nil
}

// waitUntil polls cond for up to a minute; the bound only keeps a broken
// test from hanging, no assertion depends on timing.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 600; i++ {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

func TestLoadErrorsAreQuoted(t *testing.T) {
	cases := []struct {
		loader string
		want   []string
	}{
		{LoaderNative, []string{"(CONSTRAINT public.myfirstmodule$order uq_myfirstmodule$order_order)", `relation "uq_myfirstmodule$order_order" already exists`, "the statement was: ALTER TABLE"}},
		{LoaderPgRestore, []string{"pg_restore (post-data)", `relation "uq_myfirstmodule$order_order" already exists`, "Command was: ALTER TABLE"}},
	}
	for _, tc := range cases {
		t.Run(tc.loader, func(t *testing.T) { testLoadErrorsAreQuoted(t, tc.loader, tc.want) })
	}
}

func testLoadErrorsAreQuoted(t *testing.T, loader string, want []string) {
	f := sourceFixture(t)
	target := newDatabase(t)
	// An index squatting on a constraint's name: post-data cannot add the
	// constraint.
	rewindTo(t, target, phasePostData, func(conn *pgx.Conn) {
		mustExec(t, conn,
			`ALTER TABLE public."myfirstmodule$order" DROP CONSTRAINT "uq_myfirstmodule$order_order"`,
			`CREATE INDEX "uq_myfirstmodule$order_order" ON public."myfirstmodule$bulk" (payload)`)
	})
	withPassword := strings.Replace(target, "mxmigrate@", "mxmigrate:s3cret-err@", 1)
	opts := dbcopy.Options{Loader: loader}
	_, err := migrate(testCtx(t), openTarget(t, withPassword, opts), f.src, 0)
	if err == nil {
		t.Fatal("the load succeeded despite the conflict")
	}
	if exitcode.Of(err) != exitcode.Failure || !containsAll(err.Error(), want...) {
		t.Errorf("error %q (code %d), want one quoting %q", err, exitcode.Of(err), want)
	}
	if strings.Contains(err.Error(), "s3cret-err") || strings.Contains(err.Error(), "application_name") {
		t.Errorf("the error shows the connection string: %v", err)
	}
	if phase, _ := stateOf(t, target); phase != phasePostData {
		t.Errorf("state after a failed post-data = %q", phase)
	}
}
