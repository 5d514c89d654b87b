// Package pipeline wires the stages of a migration together: it opens the
// backup, streams it once, hands the dump to a database target and the
// blobs to a file store, and verifies the result. The cmd package only
// turns flags into a Config.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/ui"
	"github.com/mxmigrate/mxmigrate/verify"
)

// LocalDB is the --db value that asks for a throwaway PostgreSQL cluster
// under the work folder, kept running after the run for inspection.
const LocalDB = "local"

// localDatabase is the database created in the local cluster.
const localDatabase = "mendix"

// Config is everything a run needs; the zero value of a field means its
// documented default.
type Config struct {
	Backup  string
	DB      string // a target URL, or "local"
	Files   string // a store URL
	WorkDir string // temporary files, the local cluster (default .mxmigrate)

	Jobs           int
	IfExists       string
	AllowConnected bool
	WaitLock       time.Duration
	Schema         string
	Staging        string
	TypeMapFile    string

	Transfers    int
	Prefix       string
	Suffix       string
	Overwrite    bool
	Create       bool
	MemoryBudget int64

	Checksums bool
	FileTable verify.FileTable

	Version  string
	Log      *slog.Logger
	Progress *ui.Progress
}

func (c *Config) defaults() {
	if c.WorkDir == "" {
		c.WorkDir = ".mxmigrate"
	}
	if c.Jobs <= 0 {
		c.Jobs = 2
	}
	if c.IfExists == "" {
		c.IfExists = "fail"
	}
	if c.Transfers <= 0 {
		c.Transfers = 16
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.FileTable.Table == "" {
		ft := verify.DefaultFileTable
		ft.Prefix, ft.Suffix = c.Prefix, c.Suffix
		c.FileTable = ft
	}
}

func (c *Config) validate(needDB, needFiles bool) error {
	if c.Backup == "" {
		return exitcode.With(exitcode.BadInput, errors.New("no backup given"))
	}
	if needDB && c.DB == "" {
		return exitcode.With(exitcode.BadInput, errors.New("--db is required (a postgres:// or sqlserver:// URL, or 'local')"))
	}
	if needFiles && c.Files == "" {
		return exitcode.With(exitcode.BadInput, errors.New("--files is required (s3://, azblob://, https:// or file:// URL)"))
	}
	switch c.IfExists {
	case "fail", "drop":
	default:
		return exitcode.With(exitcode.BadInput, fmt.Errorf("--if-exists %q: use fail or drop", c.IfExists))
	}
	return nil
}

func (c *Config) dbOptions(runDir string) dbcopy.Options {
	return dbcopy.Options{
		Jobs:           c.Jobs,
		IfExists:       c.IfExists,
		AllowConnected: c.AllowConnected,
		Schema:         c.Schema,
		WorkDir:        runDir,
		Staging:        c.stagingFor(),
		TypeMapFile:    c.TypeMapFile,
		Log:            c.Log,
	}
}

// stagingFor resolves the staging default: a throwaway cluster.
func (c *Config) stagingFor() string {
	if c.Staging == "" {
		return LocalDB
	}
	return c.Staging
}

func (c *Config) syncOptions(runDir string) blobsync.SyncOptions {
	return blobsync.SyncOptions{
		Transfers:    c.Transfers,
		Prefix:       c.Prefix,
		Suffix:       c.Suffix,
		Overwrite:    c.Overwrite,
		MemoryBudget: c.MemoryBudget,
		SpoolDir:     runDir,
		Log:          c.Log,
	}
}

// runDir makes this run's folder for temporary files under the work folder
// and removes the folders of earlier runs whose process is gone (a run
// killed with SIGKILL cannot clean up after itself).
func (c *Config) runDir() (dir string, cleanup func(), err error) {
	if err := os.MkdirAll(c.WorkDir, 0o755); err != nil {
		return "", nil, exitcode.With(exitcode.BadInput, fmt.Errorf("work folder %s: %w", c.WorkDir, err))
	}
	stale, _ := filepath.Glob(filepath.Join(c.WorkDir, "run-*"))
	for _, d := range stale {
		pidText, err := os.ReadFile(filepath.Join(d, "pid"))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(pidText))); err == nil && !processAlive(pid) {
			c.Log.Info("removing the temporary files of an interrupted run", "folder", d)
			_ = os.RemoveAll(d)
		}
	}
	dir, err = os.MkdirTemp(c.WorkDir, "run-")
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return "", nil, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// resolveDB turns --db local into the URL of a cluster under the work
// folder, started (or found running) for this run and left running.
func (c *Config) resolveDB(ctx context.Context) (string, error) {
	if c.DB != LocalDB {
		return c.DB, nil
	}
	dir, err := filepath.Abs(filepath.Join(c.WorkDir, "local-postgres"))
	if err != nil {
		return "", err
	}
	cluster, err := pgserver.Start(ctx, pgserver.Options{Dir: dir, Log: c.Log})
	if err != nil {
		return "", err
	}
	if err := cluster.CreateDatabase(ctx, localDatabase); err != nil {
		return "", err
	}
	c.Log.Info("local PostgreSQL is running; it stays up after this run",
		"connect", "psql '"+cluster.URL(localDatabase)+"'",
		"stop", filepath.Join(cluster.BinDir(), "pg_ctl")+" stop -D "+filepath.Join(dir, "data"))
	return cluster.URL(localDatabase), nil
}

// openStore opens the file store with retries around it.
func (c *Config) openStore(ctx context.Context) (blobsync.Store, error) {
	s, err := blobsync.Open(ctx, c.Files, blobsync.Options{Create: c.Create})
	if err != nil {
		return nil, err
	}
	return blobsync.WithRetry(s, blobsync.DefaultRetryPolicy), nil
}
