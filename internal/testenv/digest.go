package testenv

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgRestore runs the real pg_restore of binDir into the database at url,
// without owners or privileges, and fails the test on an error or on any
// output (a warning means the archive is not as pg_dump writes it).
func PgRestore(t testing.TB, binDir, url, dump string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "-d", url, dump)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
}

// TableDigests is each table of schema in the PostgreSQL database at url
// with its row count and an MD5 over its rows' text, sorted, computed by
// the server ("42 rows, md5 …"): two databases with the same digests hold
// the same rows.
func TableDigests(t testing.TB, url, schema string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		var n int64
		var sum string
		q := `SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r::text COLLATE "C"), '')) FROM ` +
			pgx.Identifier{schema, name}.Sanitize() + ` r`
		if err := conn.QueryRow(ctx, q).Scan(&n, &sum); err != nil {
			t.Fatalf("digest of %s.%s: %v", schema, name, err)
		}
		out[name] = fmt.Sprintf("%d rows, md5 %s", n, sum)
	}
	return out
}
