package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/export"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// ExportConfig is a Config plus what only export needs.
type ExportConfig struct {
	Config
	// Output is the backup file to write, "-" for stdout.
	Output string
	// ModelVersion overrides the model version read from the database.
	ModelVersion string
	// Stdout receives the backup when Output is "-" (default os.Stdout).
	Stdout io.Writer
}

// Export writes a Mendix full-snapshot backup of cfg.DB and cfg.Files to
// cfg.Output. It holds the database's migration lock throughout, so that
// no load writes meanwhile. A file output is written under a temporary
// name and renamed when complete: a failed export never leaves a file that
// looks like a backup.
func Export(ctx context.Context, cfg ExportConfig) (*export.Result, error) {
	cfg.Backup = "-" // not read; satisfies the shared checks
	cfg.defaults()
	res, err := runExport(ctx, &cfg)
	if ctx.Err() != nil && err != nil {
		err = exitcode.With(exitcode.Interrupted, fmt.Errorf("interrupted: %w; run the same command again", err))
	}
	return res, err
}

func runExport(ctx context.Context, cfg *ExportConfig) (*export.Result, error) {
	if err := cfg.validate(needDB | needFiles); err != nil {
		return nil, err
	}
	if cfg.Output == "" {
		return nil, exitcode.With(exitcode.BadInput, errors.New("-o is required: the backup file to write (.tar.gz), or - for stdout"))
	}
	url, err := cfg.resolveDB(ctx)
	if err != nil {
		return nil, err
	}
	target, err := dbcopy.Open(ctx, url, cfg.dbOptions(cfg.WorkDir))
	if err != nil {
		return nil, err
	}
	defer target.Close()
	unlock, err := target.Lock(ctx, cfg.WaitLock)
	if err != nil {
		return nil, err
	}
	defer unlock()
	store, err := cfg.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	runDir, cleanup, err := cfg.runDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()

	out, commit, abort, err := openOutput(cfg)
	if err != nil {
		return nil, err
	}
	res, err := export.Run(ctx, target, store, out, export.Options{
		ModelVersion:   cfg.ModelVersion,
		Jobs:           cfg.Jobs,
		Transfers:      cfg.Transfers,
		MemoryBudget:   cfg.MemoryBudget,
		AllowConnected: cfg.AllowConnected,
		Schema:         cfg.Schema,
		FileTable:      cfg.FileTable,
		WorkDir:        runDir,
		ToolVersion:    cfg.Version,
		Log:            cfg.Log,
	})
	if err != nil {
		abort()
		return nil, err
	}
	return res, commit()
}

// openOutput opens where the backup goes: stdout, or a temporary file
// beside Output that commit renames into place.
func openOutput(cfg *ExportConfig) (out io.Writer, commit func() error, abort func(), err error) {
	if cfg.Output == "-" {
		w := cfg.Stdout
		if w == nil {
			w = os.Stdout
		}
		return w, func() error { return nil }, func() {}, nil
	}
	dir := filepath.Dir(cfg.Output)
	f, err := os.CreateTemp(dir, "."+filepath.Base(cfg.Output)+".part-*")
	if err != nil {
		return nil, nil, nil, exitcode.With(exitcode.BadInput, fmt.Errorf("-o %s: %w", cfg.Output, err))
	}
	abort = func() {
		f.Close()
		os.Remove(f.Name())
	}
	commit = func() error {
		if err := f.Sync(); err != nil {
			abort()
			return fmt.Errorf("write %s: %w", cfg.Output, err)
		}
		if err := f.Close(); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", cfg.Output, err)
		}
		if err := os.Rename(f.Name(), cfg.Output); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", cfg.Output, err)
		}
		return nil
	}
	return f, commit, abort, nil
}
