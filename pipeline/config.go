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
	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/redact"
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
	Loader         string
	IfExists       dbcopy.IfExists
	AllowConnected bool
	WaitLock       time.Duration
	Schema         string
	TypeMapFile    string

	Transfers    int
	Prefix       string
	Suffix       string
	Overwrite    bool
	Create       bool
	MemoryBudget int64
	// The run-wide give-up on a dead store (blobsync.SyncOptions).
	StoreGiveUp      time.Duration
	StoreMaxFailures int
	MaxBlobSize      int64 // refuse a blob entry larger than this (0: the default)
	// Prune deletes, after a verified migrate, the UUID-named objects under
	// the prefix that the backup holds neither as a blob nor as a row.
	Prune bool

	Checksums bool
	FileTable verify.FileTable

	Version  string
	Log      *slog.Logger
	Progress *ui.Progress
}

func (c *Config) defaults() {
	if c.WorkDir == "" {
		c.WorkDir = cliflag.DefaultWorkDir
	}
	if c.Jobs <= 0 {
		c.Jobs = cliflag.DefaultJobs
	}
	if c.Transfers <= 0 {
		c.Transfers = cliflag.DefaultTransfers
	}
	if c.MemoryBudget <= 0 {
		c.MemoryBudget = cliflag.DefaultMemoryBudget
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

// needs names the targets a command requires.
type needs int

const (
	needDB needs = 1 << iota
	needFiles
)

func (c *Config) validate(targets needs) error {
	if c.Backup == "" {
		return exitcode.With(exitcode.BadInput, errors.New("no backup given"))
	}
	if targets&needDB != 0 && c.DB == "" {
		return exitcode.With(exitcode.BadInput, errors.New("--db is required (a postgres:// or sqlserver:// URL, or 'local')"))
	}
	if targets&needFiles != 0 && c.Files == "" {
		return exitcode.With(exitcode.BadInput, errors.New("--files is required (s3://, azblob://, https:// or file:// URL)"))
	}
	if err := (dbcopy.Options{IfExists: c.IfExists}).Check(); err != nil {
		return err
	}
	switch c.Loader {
	case "", "native", "pg_restore":
	default:
		return exitcode.With(exitcode.BadInput, fmt.Errorf("--loader %q: use native or pg_restore", c.Loader))
	}
	return nil
}

// dbOptions are the target's options. A target refuses an option it does
// not use, so the loader is left out unless the user chose another than
// the default: SQL Server has no loader to choose.
func (c *Config) dbOptions(runDir string) dbcopy.Options {
	loader := c.Loader
	if loader == cliflag.DefaultLoader {
		loader = ""
	}
	return dbcopy.Options{
		Jobs:           c.Jobs,
		Loader:         loader,
		IfExists:       c.IfExists,
		AllowConnected: c.AllowConnected,
		Schema:         c.Schema,
		WorkDir:        runDir,
		TypeMapFile:    c.TypeMapFile,
		Log:            c.Log,
	}
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

		GiveUpAfter:     c.StoreGiveUp,
		MaxFailedInARow: c.StoreMaxFailures,
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
			// A server the dead run started there must not go on running
			// on deleted files: stop it first (its postmaster.pid finds it).
			if _, err := stopServersUnder(d, c.Log); err != nil {
				c.Log.Warn("cannot stop a server of an interrupted run; its folder is kept", "folder", d, "err", err)
				continue
			}
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

func stopServersUnder(dir string, log *slog.Logger) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return pgserver.StopClustersUnder(ctx, dir, log)
}

// LocalClusterDir is the folder of the --db local cluster under a work
// folder.
func LocalClusterDir(workDir string) string { return filepath.Join(workDir, "local-postgres") }

// LocalURL is the connection URL of the --db local database of a cluster.
func LocalURL(c *pgserver.Cluster) string { return c.URL(localDatabase) }

// resolveDB turns --db local into the URL of a cluster under the work
// folder, started (or found running) for this run and left running.
func (c *Config) resolveDB(ctx context.Context) (string, error) {
	if c.DB != LocalDB {
		return c.DB, nil
	}
	cluster, err := pgserver.Start(ctx, pgserver.Options{Dir: LocalClusterDir(c.WorkDir), Log: c.Log})
	if err != nil {
		return "", err
	}
	if err := cluster.CreateDatabase(ctx, localDatabase); err != nil {
		return "", err
	}
	stop := "mxmigrate local stop"
	if c.WorkDir != cliflag.DefaultWorkDir {
		stop += " --" + cliflag.WorkDir + " " + c.WorkDir
	}
	c.Log.Info("local PostgreSQL is running; it stays up after this run",
		"connect", LocalURL(cluster), "stop", stop)
	return LocalURL(cluster), nil
}

// findLocalDB is resolveDB for commands that start nothing: the URL of the
// --db local cluster if it is running, else an error saying so.
func (c *Config) findLocalDB(ctx context.Context, command string) (string, error) {
	dir := LocalClusterDir(c.WorkDir)
	cluster, err := pgserver.Find(pgserver.Options{Dir: dir, Log: c.Log})
	if err == nil && cluster.Running(ctx) {
		return LocalURL(cluster), nil
	}
	return "", exitcode.With(exitcode.BadInput, fmt.Errorf("--db local: %s starts nothing, and no local PostgreSQL is running under %s: "+
		"give a real target, or run migrate --db local, which runs the same checks before it writes", command, dir))
}

// openStore opens the file store with retries around it.
func (c *Config) openStore(ctx context.Context) (blobsync.Store, error) {
	return c.openStoreWith(ctx, blobsync.Options{Create: c.Create})
}

// openExistingStore is openStore without --create: plan never creates
// anything.
func (c *Config) openExistingStore(ctx context.Context) (blobsync.Store, error) {
	return c.openStoreWith(ctx, blobsync.Options{})
}

func (c *Config) openStoreWith(ctx context.Context, opts blobsync.Options) (blobsync.Store, error) {
	s, err := blobsync.Open(ctx, c.Files, opts)
	if err != nil {
		return nil, err
	}
	if id := blobsync.IdentityOf(s); id != "" {
		c.Log.Info("file store signed in", "store", s.String(), "identity", redact.Text(id))
	}
	return blobsync.WithRetry(s, blobsync.DefaultRetryPolicy), nil
}
