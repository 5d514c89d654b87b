package testenv

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

// Postgres starts a throwaway PostgreSQL cluster for the test, from the
// same initdb/pg_ctl code the tool uses for its own temporary clusters, and
// removes it when the test ends.
func Postgres(t testing.TB) *pgserver.Cluster {
	t.Helper()
	SkipIfShort(t, "PostgreSQL")
	if _, _, err := pgserver.FindBinDir(); err != nil {
		Unavailable(t, "PostgreSQL", "install the server binaries (apt-get install postgresql) or set "+pgserver.BinDirEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgserver.Start(ctx, pgserver.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("testenv: start PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Remove(ctx); err != nil {
			t.Logf("testenv: remove PostgreSQL cluster: %v", err)
		}
	})
	return c
}

var databaseCounter atomic.Int64

// NewDatabase creates a fresh database in c and returns its URL.
func NewDatabase(t testing.TB, c *pgserver.Cluster) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", databaseCounter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	return c.URL(name)
}
