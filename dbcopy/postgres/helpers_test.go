package postgres

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// logBuffer collects a target's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openTarget opens rawURL as a Target that the test closes.
func openTarget(t *testing.T, rawURL string, opts dbcopy.Options) *Target {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatalf("open %s: %v", rawURL, err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg.(*Target)
}

// migrate runs the pipeline's sequence: Lock, Preflight, Load unless done.
func migrate(ctx context.Context, tg *Target, src *dbcopy.Source, wait time.Duration) (*dbcopy.PreflightResult, error) {
	unlock, err := tg.Lock(ctx, wait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res, err := tg.Preflight(ctx, src)
	if err != nil || res.AlreadyDone {
		return res, err
	}
	return res, tg.Load(ctx, src)
}

// mustMigrate loads the fixture into rawURL and fails the test on error.
func mustMigrate(t *testing.T, rawURL string, opts dbcopy.Options) {
	t.Helper()
	f := sourceFixture(t)
	if _, err := migrate(testCtx(t), openTarget(t, rawURL, opts), f.src, 0); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

// sqlConn connects for test-side SQL. Its application name starts with
// "mxmigrate", so the session check does not count it.
func sqlConn(t *testing.T, rawURL string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "mxmigrate-test"
	conn, err := pgx.ConnectConfig(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { closeQuietly(conn) })
	return conn
}

func execSQL(t *testing.T, rawURL string, statements ...string) {
	t.Helper()
	conn := sqlConn(t, rawURL)
	for _, s := range statements {
		if _, err := conn.Exec(testCtx(t), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	closeQuietly(conn)
}

// verifyLoaded checks that the target at rawURL holds exactly the source:
// every value of every table, row counts, sequences, indexes, constraints.
func verifyLoaded(t *testing.T, rawURL string) {
	t.Helper()
	f := sourceFixture(t)
	ctx := testCtx(t)
	target := openTarget(t, rawURL, dbcopy.Options{})
	source := openTarget(t, f.url, dbcopy.Options{})
	inv, err := target.Inventory(ctx)
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	if len(inv.Tables) != len(f.src.Tables) {
		t.Errorf("target has %d tables %v, want %d", len(inv.Tables), inv.Tables, len(f.src.Tables))
	}
	for _, tb := range f.src.Tables {
		if got, ok := inv.Tables[tb.Name]; !ok || got != tb.Rows {
			t.Errorf("table %s: %d rows (present %v), want %d", tb.Name, got, ok, tb.Rows)
		}
		compareTable(t, ctx, source, target, tb.Name)
	}
	if len(inv.Sequences) != len(f.nextValues) {
		t.Errorf("target sequences %v, want %v", inv.Sequences, f.nextValues)
	}
	for name, want := range f.nextValues {
		if got := inv.Sequences[name]; got != want {
			t.Errorf("sequence %s: next value %d, want %d", name, got, want)
		}
	}
	checkNames(t, "index", inv.Indexes, f.src.Indexes)
	checkNames(t, "constraint", inv.Constraints, f.src.Constraints)
}

func checkNames(t *testing.T, what string, got map[string]bool, want []dbcopy.SourceObject) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("the fixture has no %s: the check would prove nothing", what)
	}
	if len(got) != len(want) {
		t.Errorf("%d %ses %v, want %d", len(got), what, got, len(want))
	}
	for _, o := range want {
		if !got[o.Table+"."+o.Name] {
			t.Errorf("%s %s.%s missing", what, o.Table, o.Name)
		}
	}
}

// compareTable scans table on both sides and compares every value.
func compareTable(t *testing.T, ctx context.Context, source, target *Target, table string) {
	t.Helper()
	want := scanAll(t, ctx, source, table)
	got := scanAll(t, ctx, target, table)
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", table, len(got), len(want))
		return
	}
	for i := range want {
		if !rowsEqual(got[i], want[i]) {
			t.Errorf("%s row %d:\n got  %#v\n want %#v", table, i, got[i], want[i])
			return
		}
	}
}

func scanAll(t *testing.T, ctx context.Context, tg *Target, table string) [][]any {
	t.Helper()
	var rows [][]any
	err := tg.ScanTable(ctx, table, nil, func(values []any) error {
		rows = append(rows, append([]any(nil), values...))
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", table, err)
	}
	return rows
}

func rowsEqual(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !valuesEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

// stateOf reads the recorded phase and fingerprint ("" when none).
func stateOf(t *testing.T, rawURL string) (phase, fingerprint string) {
	t.Helper()
	conn := sqlConn(t, rawURL)
	defer closeQuietly(conn)
	st, err := readState(testCtx(t), conn, "public")
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		return "", ""
	}
	return st.Phase, st.Fingerprint
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
