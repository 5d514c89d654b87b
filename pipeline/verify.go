package pipeline

import (
	"context"
	"errors"
	"io"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/report"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/verify"
	"github.com/mxmigrate/mxmigrate/verify/rowdiff"
)

// Verify checks a target database and store against the backup, on its own
// (after a migration done any way at all). It reads the backup once, as a
// stream, and writes nothing anywhere.
func Verify(ctx context.Context, cfg Config) (*report.Report, error) {
	targets := needDB
	if cfg.Files != "" {
		targets |= needFiles
	}
	return run(ctx, &cfg, "verify", targets, runVerify)
}

func runVerify(ctx context.Context, cfg *Config, report *report.Report) error {
	backup, err := snapshot.Open(cfg.Backup)
	if err != nil {
		return err
	}
	url, err := cfg.resolveDB(ctx)
	if err != nil {
		return err
	}
	target, err := openTarget(ctx, url, cfg.dbOptions(cfg.WorkDir))
	if err != nil {
		return err
	}
	defer target.Close()
	report.Database = target.String()
	report.DatabaseIdentity = redact.Text(dbcopy.IdentityOf(target))

	// With --checksums both the counts and the contents read the whole
	// dump: keep it on disk rather than read the backup twice.
	var runDir string
	if cfg.Checksums {
		dir, cleanup, err := cfg.runDir()
		if err != nil {
			return err
		}
		defer cleanup()
		runDir = dir
	}

	end := report.StartPhase("read backup")
	var src *dbcopy.Source
	blobs := map[string]int64{}
	summary, err := backup.Walk(ctx, snapshot.Visitor{
		Dump: func(ctx context.Context, r io.Reader, _ int64) error {
			if runDir == "" {
				return withDumpInPlace(ctx, backup, func(at io.ReaderAt) error {
					var err error
					src, err = describeAndCount(ctx, r, at)
					return err
				})
			}
			var err error
			src, err = spoolDump(ctx, runDir, r)
			return err
		},
		Blob: func(_ context.Context, b snapshot.Blob, _ io.Reader) error {
			heldBlob(blobs, b)
			return nil
		},
		Anomaly: func(a snapshot.Anomaly) { logAnomaly(cfg)(a); skippedBlob(blobs, a) },
	})
	recordAnomalies(report, summary)
	end(err)
	if err != nil {
		return err
	}
	if src == nil {
		return errors.New("the backup holds no database dump")
	}

	end = report.StartPhase("verify database")
	inv, err := target.Inventory(ctx)
	err = refusedCredentials(err)
	if err == nil {
		report.DB = verify.CompareDatabase(src, inv)
		if cfg.Checksums {
			err = compareContents(ctx, src.DumpPath, target, report.DB, cfg.Jobs)
		}
	}
	end(err)
	if err != nil {
		return err
	}

	if cfg.Files == "" {
		return nil
	}
	store, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	report.Files = store.String()
	report.FilesIdentity = redact.Text(blobsync.IdentityOf(store))
	end = report.StartPhase("verify files")
	if backup.Kind() == snapshot.KindDatabase {
		blobs = nil // a database-only backup says nothing about the blobs
	}
	report.Blobs, err = verify.CompareFiles(ctx, target, store, cfg.FileTable, blobs)
	end(err)
	return err
}

// compareContents compares every row of the dump at path with the target,
// filling the content results of rep. The dump is opened for random
// access: tables whose contents differ are read from it again.
func compareContents(ctx context.Context, path string, target dbcopy.Target, rep *verify.DBReport, jobs int) error {
	f, err := pgdump.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return rowdiff.Compare(ctx, f, target, rep, jobs)
}

// describeAndCount reads a whole dump from a stream: its table of contents
// and every table's row count. at is as for readArchive.
func describeAndCount(ctx context.Context, r io.Reader, at io.ReaderAt) (*dbcopy.Source, error) {
	a, byID, err := readArchive(ctx, r, at)
	if err != nil {
		return nil, err
	}
	return withCounts(describeDump(a, ""), rowsByTable(a, byID))
}

// rowsByTable turns counts by dump ID into counts by table name.
func rowsByTable(a *pgdump.Archive, byID map[int]int64) map[string]int64 {
	counts := map[string]int64{}
	for i := range a.Entries {
		e := &a.Entries[i]
		switch e.Desc {
		case "TABLE":
			if _, ok := counts[e.Tag]; !ok {
				counts[e.Tag] = 0 // a table without a data entry has no rows
			}
		case "TABLE DATA":
			counts[e.Tag] = byID[e.DumpID]
		}
	}
	return counts
}
