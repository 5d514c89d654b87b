package pgserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

func TestStartCreateStopReuse(t *testing.T) {
	c := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if err := c.CreateDatabase(ctx, "app$db"); err != nil {
		t.Fatal(err)
	}
	// Creating it again is not an error: Start and CreateDatabase are
	// meant to be re-run by a resumed migration.
	if err := c.CreateDatabase(ctx, "app$db"); err != nil {
		t.Fatalf("second CreateDatabase: %v", err)
	}
	conn, err := pgx.Connect(ctx, c.URL("app$db"))
	if err != nil {
		t.Fatal(err)
	}
	var user, addr string
	if err := conn.QueryRow(ctx, "SELECT current_user, host(inet_server_addr())").Scan(&user, &addr); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if user != pgserver.User || addr != "127.0.0.1" {
		t.Fatalf("connected as %q to %q, want %q on 127.0.0.1", user, addr, pgserver.User)
	}

	// A second Start on the same folder finds the running cluster.
	again, err := pgserver.Start(ctx, pgserver.Options{Dir: c.Dir()})
	if err != nil {
		t.Fatal(err)
	}
	if again.Port() != c.Port() {
		t.Fatalf("restart picked port %d, want the running cluster's %d", again.Port(), c.Port())
	}

	// After a stop, Start brings the same cluster (and its data) back.
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop on a stopped cluster: %v", err)
	}
	back, err := pgserver.Start(ctx, pgserver.Options{Dir: c.Dir()})
	if err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, back.URL("app$db"))
	if err != nil {
		t.Fatalf("database lost across restart: %v", err)
	}
	conn.Close(ctx)

	if err := back.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), "data")); !os.IsNotExist(err) {
		t.Fatalf("Remove left the data folder: %v", err)
	}
}

func TestToolVersion(t *testing.T) {
	testenv.SkipIfShort(t, "pg_dump and pg_restore")
	dir, major, err := pgserver.FindBinDir()
	if err != nil {
		testenv.Unavailable(t, "PostgreSQL", "")
	}
	got, full, err := pgserver.ToolVersion(dir, "pg_dump")
	if err != nil {
		t.Fatal(err)
	}
	if got != major || full == "" {
		t.Fatalf("pg_dump major %d (%q), pg_restore major %d: want the same", got, full, major)
	}
}
