package pipeline_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// A server that a killed run started in its run folder (the staging
// cluster of a SQL Server load) is stopped by the next run before that
// folder is removed, so that none goes on running on deleted files.
func TestNextRunStopsTheServerOfAKilledRun(t *testing.T) {
	if _, _, err := pgserver.FindBinDir(); err != nil {
		t.Skip("no PostgreSQL server binaries")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	work := t.TempDir()
	// The killed run: its pid is gone, its folder and its server remain.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(work, "run-killed")
	if err := os.MkdirAll(killed, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(killed, "pid"), []byte(strconv.Itoa(gone.ProcessState.Pid())), 0o600); err != nil {
		t.Fatal(err)
	}
	cluster, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(killed, "staging")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop(context.Background()) })
	if conn, err := pgx.Connect(ctx, cluster.URL("postgres")); err != nil {
		t.Fatalf("the killed run's server is not running: %v", err)
	} else {
		conn.Close(ctx)
	}

	files, _ := fileStore(t)
	cfg := config(t, sampleBackup, "", files)
	cfg.WorkDir = work
	if _, err := run(t, "files", pipeline.Files, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(killed); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the killed run's folder is still there: %v", err)
	}
	if conn, err := pgx.Connect(ctx, cluster.URL("postgres")); err == nil {
		conn.Close(ctx)
		t.Fatal("the killed run's server still runs after its folder was removed")
	}
}
