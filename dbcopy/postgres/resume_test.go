package postgres

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

func itoa(n int) string { return strconv.Itoa(n) }

// rewindTo loads the fixture completely, then turns the target back into
// what a run interrupted in phase looks like, then lets mess change it
// further (a run can be killed anywhere within a phase).
func rewindTo(t *testing.T, target, phase string, mess func(conn *pgx.Conn)) {
	t.Helper()
	f := sourceFixture(t)
	mustMigrate(t, target, dbcopy.Options{})
	ctx := testCtx(t)
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if phase == phaseData {
		// Before post-data: no indexes or constraints; before data: empty
		// tables and sequences as CREATE SEQUENCE left them.
		cons := append([]dbcopy.SourceObject(nil), f.src.Constraints...)
		sort.SliceStable(cons, func(i, j int) bool { return cons[i].Kind == "FK CONSTRAINT" && cons[j].Kind != "FK CONSTRAINT" })
		for _, c := range cons {
			exec("ALTER TABLE " + pgx.Identifier{"public", c.Table}.Sanitize() + " DROP CONSTRAINT " + pgx.Identifier{c.Name}.Sanitize())
		}
		for _, ix := range f.src.Indexes {
			exec("DROP INDEX " + pgx.Identifier{"public", ix.Name}.Sanitize())
		}
		var tables []string
		for _, tb := range f.src.Tables {
			tables = append(tables, pgx.Identifier{"public", tb.Name}.Sanitize())
		}
		exec("TRUNCATE " + strings.Join(tables, ", "))
		for _, s := range f.src.Sequences {
			exec("SELECT setval('" + pgx.Identifier{"public", s.Name}.Sanitize() + "', 1, false)")
		}
		// The native loader's marks of loaded tables go with their rows.
		exec("DO $$ BEGIN IF to_regclass('mxmigrate.loaded_table') IS NOT NULL THEN DELETE FROM mxmigrate.loaded_table; END IF; END $$")
	}
	if mess != nil {
		mess(conn)
	}
	exec("UPDATE mxmigrate.migration SET phase = '" + phase + "', finished_at = NULL")
}

// blockTable locks table in SHARE mode in an open transaction: pg_restore's
// COPY into it waits, while count(*) still passes. It makes "in the middle
// of the data phase" a state a test can reach without timing.
func blockTable(t *testing.T, target, table string) *pgx.Conn {
	t.Helper()
	conn := sqlConn(t, target)
	for _, s := range []string{"BEGIN", "LOCK TABLE " + pgx.Identifier{"public", table}.Sanitize() + " IN SHARE MODE"} {
		if _, err := conn.Exec(testCtx(t), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return conn
}

func releaseBlock(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	if _, err := conn.Exec(testCtx(t), "ROLLBACK"); err != nil {
		t.Fatalf("release the table lock: %v", err)
	}
}

// restoreSessions lists pg_restore's server sessions on target's database.
func restoreSessions(t *testing.T, target string) []int32 {
	return restoreSessionsWhere(t, target, "")
}

func restoreSessionsWhere(t *testing.T, target, cond string) []int32 {
	t.Helper()
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	rows, err := conn.Query(testCtx(t), `SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $1`+cond, restoreAppName)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

func waitForBlockedRestore(t *testing.T, target string) {
	t.Helper()
	waitUntil(t, "pg_restore to wait on the blocked table", func() bool {
		return len(restoreSessionsWhere(t, target, " AND wait_event_type = 'Lock'")) > 0
	})
}

// restoreProcesses finds the pg_restore processes working on target's
// database, with their command lines.
func restoreProcesses(t *testing.T, target string) map[int]string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	marker := u.Path + "?"
	found := map[int]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if filepath.Base(args[0]) != "pg_restore" || !strings.Contains(string(raw), marker) {
			continue
		}
		// A zombie still has a cmdline until reaped; only count the living.
		if stat, err := os.ReadFile(filepath.Join(dir, "stat")); err == nil && strings.Contains(string(stat), ") Z ") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(dir))
		found[pid] = strings.Join(args, " ")
	}
	return found
}

func TestResumeFromEveryPhase(t *testing.T) {
	const order, bulk, files = "myfirstmodule$order", "myfirstmodule$bulk", "system$filedocument"
	cases := []struct {
		name  string
		phase string
		mess  func(t *testing.T, conn *pgx.Conn)
		// untouched is a table whose rows must keep their version: the
		// resume must not load it again.
		untouched string
	}{
		{name: "pre-data complete but not recorded", phase: phasePreData},
		{name: "pre-data half done", phase: phasePreData, mess: func(t *testing.T, conn *pgx.Conn) {
			mustExec(t, conn, `DROP TABLE public."myfirstmodule$emptything"`, `DROP SEQUENCE public."myfirstmodule$order_nr_mxseq"`)
		}},
		{name: "data not started", phase: phaseData},
		{name: "data half done", phase: phaseData, untouched: bulk, mess: func(t *testing.T, conn *pgx.Conn) {
			// One table complete, one partly loaded, the rest empty.
			mustExec(t, conn,
				`INSERT INTO public."myfirstmodule$bulk" SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 20000) g`,
				`INSERT INTO public."system$filedocument" (id, name) VALUES (1, 'partial'), (2, 'partial')`)
		}},
		{name: "data complete but not recorded", phase: phaseData, untouched: order, mess: func(t *testing.T, conn *pgx.Conn) {
			for _, tb := range sourceFixture(t).src.Tables {
				copyTableFromSource(t, conn, tb.Name)
			}
		}},
		{name: "post-data half done", phase: phasePostData, untouched: bulk, mess: func(t *testing.T, conn *pgx.Conn) {
			mustExec(t, conn,
				`ALTER TABLE public."myfirstmodule$order" DROP CONSTRAINT "fk_myfirstmodule$order_owner"`,
				`ALTER TABLE public."myfirstmodule$order" DROP CONSTRAINT "uq_myfirstmodule$order_order"`,
				`DROP INDEX public."idx_system$filedocument_submetaobjectname"`)
		}},
		{name: "post-data complete but not recorded", phase: phasePostData, untouched: files},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := sourceFixture(t)
			target := newDatabase(t)
			rewindTo(t, target, tc.phase, func(conn *pgx.Conn) {
				if tc.mess != nil {
					tc.mess(t, conn)
				}
			})
			var before string
			if tc.untouched != "" {
				before = rowVersions(t, target, tc.untouched)
			}
			tg := openTarget(t, target, dbcopy.Options{})
			ctx := testCtx(t)
			res, err := migrate(ctx, tg, f.src, 0)
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			if !res.Resumable {
				t.Errorf("Preflight did not report a resumable load: %+v", res)
			}
			verifyLoaded(t, target)
			if phase, _ := stateOf(t, target); phase != phaseDone {
				t.Errorf("phase after resume = %q", phase)
			}
			if tc.untouched != "" {
				if after := rowVersions(t, target, tc.untouched); after != before {
					t.Errorf("%s was loaded again although it was complete", tc.untouched)
				}
			}
		})
	}
}

func mustExec(t *testing.T, conn *pgx.Conn, statements ...string) {
	t.Helper()
	for _, s := range statements {
		if _, err := conn.Exec(testCtx(t), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// copyTableFromSource fills a target table with the source's rows, the way
// a committed COPY would have.
func copyTableFromSource(t *testing.T, conn *pgx.Conn, table string) {
	t.Helper()
	f := sourceFixture(t)
	srcConn := sqlConn(t, f.url)
	defer closeQuietly(srcConn)
	ctx := testCtx(t)
	name := pgx.Identifier{"public", table}.Sanitize()
	var data bytes.Buffer
	if _, err := srcConn.PgConn().CopyTo(ctx, &data, "COPY "+name+" TO STDOUT"); err != nil {
		t.Fatalf("copy %s out of the source: %v", table, err)
	}
	if _, err := conn.PgConn().CopyFrom(ctx, &data, "COPY "+name+" FROM STDIN"); err != nil {
		t.Fatalf("copy %s into the target: %v", table, err)
	}
}

// rowVersions summarises the physical row versions of a table: any reload
// changes them.
func rowVersions(t *testing.T, target, table string) string {
	t.Helper()
	conn := sqlConn(t, target)
	defer closeQuietly(conn)
	var v string
	q := "SELECT count(*)::text || ':' || coalesce(min(xmin::text::bigint), 0)::text || '-' || coalesce(max(xmin::text::bigint), 0)::text FROM " + pgx.Identifier{"public", table}.Sanitize()
	if err := conn.QueryRow(testCtx(t), q).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(v, "0:") {
		t.Fatalf("%s is empty: the untouched check would prove nothing", table)
	}
	return v
}
