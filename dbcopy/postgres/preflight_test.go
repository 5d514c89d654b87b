package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestNonEmptyTargetIsRefusedUnlessDrop(t *testing.T) {
	f := sourceFixture(t)
	ctx := testCtx(t)
	target := newDatabase(t)
	execSQL(t, target,
		`CREATE TABLE public.stale (id int)`,
		`CREATE VIEW public.stale_view AS SELECT id FROM public.stale`,
		`CREATE SEQUENCE public."stale$seq"`,
		// A collision: the dump creates this table too.
		`CREATE TABLE public."system$filedocument" (id bigint, junk text)`,
		`INSERT INTO public."system$filedocument" VALUES (1, 'old')`,
		`CREATE FUNCTION public.stale_fn(a int) RETURNS int LANGUAGE sql AS 'SELECT a'`,
	)
	wantDropped := []string{"table public.stale", "view public.stale_view", "sequence public.stale$seq",
		"table public.system$filedocument", "function public.stale_fn(a integer)"}

	tg := openTarget(t, target, dbcopy.Options{})
	res, err := tg.Preflight(ctx, f.src)
	if exitcode.Of(err) != exitcode.PreflightRefused {
		t.Fatalf("Preflight on a non-empty schema = %v, want refused", err)
	}
	if c := findCheck(res, checkEmpty); c == nil || c.OK || !containsAll(c.Detail, "5 objects", "--if-exists drop") {
		t.Errorf("check %s = %+v", checkEmpty, c)
	}

	logs := &logBuffer{}
	opts := dbcopy.Options{IfExists: dbcopy.IfExistsDrop, Log: newLogger(logs)}
	tg = openTarget(t, target, opts)
	res, err = tg.Preflight(ctx, f.src)
	if err != nil {
		t.Fatalf("Preflight with drop: %v", err)
	}
	if got := strings.Join(res.ToDrop, "|"); !containsAll(got, wantDropped...) || len(res.ToDrop) != len(wantDropped) {
		t.Errorf("ToDrop = %q, want %q", res.ToDrop, wantDropped)
	}
	if phase, _ := stateOf(t, target); phase != "" {
		t.Errorf("Preflight wrote state %q", phase)
	}
	if _, err := migrate(ctx, tg, f.src, 0); err != nil {
		t.Fatalf("migrate with drop: %v", err)
	}
	for _, name := range wantDropped {
		if !strings.Contains(logs.String(), `object="`+name+`"`) {
			t.Errorf("the log does not list dropping %q:\n%s", name, logs.String())
		}
	}
	verifyLoaded(t, target)
	conn := sqlConn(t, target)
	var leftovers int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname IN ('stale', 'stale_view', 'stale$seq')`).Scan(&leftovers); err != nil || leftovers != 0 {
		t.Errorf("%d dropped objects remain (%v)", leftovers, err)
	}
}

func TestOtherSessionsAreRefused(t *testing.T) {
	cases := []struct {
		name           string
		appName        string
		allowConnected bool
		wantRefused    bool
		wantWarn       bool
	}{
		{name: "the app is connected", appName: "Mendix Runtime", wantRefused: true},
		{name: "an unnamed session", appName: "", wantRefused: true},
		{name: "allowed by --allow-connected", appName: "Mendix Runtime", allowConnected: true, wantWarn: true},
		{name: "our own session", appName: "mxmigrate-verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := sourceFixture(t)
			ctx := testCtx(t)
			target := newDatabase(t)
			cfg, err := pgx.ParseConfig(target)
			if err != nil {
				t.Fatal(err)
			}
			cfg.RuntimeParams["application_name"] = tc.appName
			other, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer closeQuietly(other)

			opts := dbcopy.Options{AllowConnected: tc.allowConnected}
			res, err := openTarget(t, target, opts).Preflight(ctx, f.src)
			if refused := exitcode.Of(err) == exitcode.PreflightRefused; refused != tc.wantRefused {
				t.Fatalf("Preflight = %v, want refused=%v", err, tc.wantRefused)
			}
			c := findCheck(res, checkSessions)
			if c == nil || c.OK == tc.wantRefused || c.Warn != tc.wantWarn {
				t.Fatalf("check %s = %+v", checkSessions, c)
			}
			if tc.wantRefused && !containsAll(c.Detail, "1 other sessions", "--allow-connected", "pid "+itoa(int(other.PgConn().PID()))) {
				t.Errorf("detail %q does not name the session and the way out", c.Detail)
			}
		})
	}
}

func TestDifferentBackupIsRefusedUnlessDrop(t *testing.T) {
	cases := []struct {
		name     string
		phase    string
		ifExists dbcopy.IfExists
	}{
		{name: "half-loaded, fail", phase: phaseData, ifExists: dbcopy.IfExistsFail},
		{name: "loaded, fail", phase: phaseDone, ifExists: dbcopy.IfExistsFail},
		{name: "half-loaded, drop", phase: phaseData, ifExists: dbcopy.IfExistsDrop},
		{name: "loaded, drop", phase: phaseDone, ifExists: dbcopy.IfExistsDrop},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := sourceFixture(t)
			ctx := testCtx(t)
			target := newDatabase(t)
			rewindTo(t, target, tc.phase, func(conn *pgx.Conn) {
				mustExec(t, conn, `UPDATE mxmigrate.migration SET fingerprint = 'another-backup-0123456789'`)
			})
			opts := dbcopy.Options{IfExists: tc.ifExists}
			tg := openTarget(t, target, opts)
			res, err := migrate(ctx, tg, f.src, 0)
			if tc.ifExists != dbcopy.IfExistsDrop {
				if exitcode.Of(err) != exitcode.PreflightRefused || !containsAll(err.Error(), "another backup", "another-bac", "--if-exists drop") {
					t.Fatalf("migrate = %v, want a refusal naming the other backup", err)
				}
				if _, fp := stateOf(t, target); fp != "another-backup-0123456789" {
					t.Errorf("a refused run changed the state to %q", fp)
				}
				return
			}
			if err != nil {
				t.Fatalf("migrate with drop: %v", err)
			}
			if res.AlreadyDone || res.Resumable || len(res.ToDrop) == 0 {
				t.Errorf("Preflight = %+v, want a fresh load that drops", res)
			}
			verifyLoaded(t, target)
			if phase, fp := stateOf(t, target); phase != phaseDone || fp != f.src.Fingerprint {
				t.Errorf("state = %s %s", phase, fp)
			}
		})
	}
}

func TestPreflightWritesNothingAndReportsVersions(t *testing.T) {
	f := sourceFixture(t)
	ctx := testCtx(t)
	target := newDatabase(t)
	cases := []struct {
		serverVersion string
		wantWarn      bool
	}{
		{serverVersion: "9.6.24", wantWarn: false},
		{serverVersion: f.src.ServerVersion, wantWarn: false},
		{serverVersion: "99.1 (Debian 99.1-1)", wantWarn: true},
	}
	for _, tc := range cases {
		src := f.copySource()
		src.ServerVersion = tc.serverVersion
		res, err := openTarget(t, target, dbcopy.Options{}).Preflight(ctx, src)
		if err != nil {
			t.Fatalf("Preflight (source %s): %v", tc.serverVersion, err)
		}
		c := findCheck(res, checkVersion)
		if c == nil || !c.OK || c.Warn != tc.wantWarn {
			t.Errorf("source %s: check %s = %+v, want warn=%v", tc.serverVersion, checkVersion, c, tc.wantWarn)
		}
	}
	conn := sqlConn(t, target)
	var schemas int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = 'mxmigrate'").Scan(&schemas); err != nil || schemas != 0 {
		t.Errorf("Preflight created the state schema (%d, %v)", schemas, err)
	}
}

func TestPreflightRefusesWithoutPrivileges(t *testing.T) {
	f := sourceFixture(t)
	ctx := testCtx(t)
	target := newDatabase(t)
	execSQL(t, target,
		`DROP ROLE IF EXISTS "limited user"`,
		`CREATE ROLE "limited user" LOGIN`,
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		`REVOKE CREATE ON DATABASE `+pgx.Identifier{dbName(t, target)}.Sanitize()+` FROM PUBLIC`,
	)
	t.Cleanup(func() {
		execSQL(t, target, `DROP OWNED BY "limited user"`, `DROP ROLE "limited user"`)
	})
	limited := strings.Replace(target, "postgres://mxmigrate@", "postgres://limited%20user@", 1)
	res, err := openTarget(t, limited, dbcopy.Options{}).Preflight(ctx, f.src)
	if exitcode.Of(err) != exitcode.PreflightRefused {
		t.Fatalf("Preflight as an unprivileged user = %v, want refused", err)
	}
	c := findCheck(res, checkPrivileges)
	if c == nil || c.OK || !containsAll(c.Detail, `"limited user" may not create tables in schema public`, `GRANT CREATE ON SCHEMA "public" TO "limited user"`, "GRANT CREATE ON DATABASE") {
		t.Errorf("check %s = %+v", checkPrivileges, c)
	}
}

// The exit code is the conformance suite's; plan shows the failed check.
func TestUnreachableTargetFailsTheConnectCheck(t *testing.T) {
	f := sourceFixture(t)
	// Port 1 on loopback: nothing listens there.
	target := "postgres://someone:pw-never-shown@127.0.0.1:1/app?sslmode=disable&connect_timeout=5"
	res, err := openTarget(t, target, dbcopy.Options{}).Preflight(context.Background(), f.src)
	if err == nil || errors.Is(err, dbcopy.ErrPreflightRefused) {
		t.Fatalf("Preflight = %v, want a failure that is no refusal", err)
	}
	if c := findCheck(res, checkConnect); c == nil || c.OK {
		t.Errorf("check %s = %+v", checkConnect, c)
	}
	if strings.Contains(err.Error(), "pw-never-shown") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func dbName(t *testing.T, rawURL string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}
