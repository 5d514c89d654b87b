package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/report"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/verify"
)

// DB moves the backup's database into cfg.DB and verifies it.
func DB(ctx context.Context, cfg Config) (*report.Report, error) {
	return run(ctx, &cfg, "db", needDB, runDB)
}

// Files uploads the backup's blobs to cfg.Files.
func Files(ctx context.Context, cfg Config) (*report.Report, error) {
	return run(ctx, &cfg, "files", needFiles, runFiles)
}

// Migrate moves the database and the files in one pass over the backup,
// then verifies both.
func Migrate(ctx context.Context, cfg Config) (*report.Report, error) {
	return run(ctx, &cfg, "migrate", needDB|needFiles, runMigrate)
}

func run(ctx context.Context, cfg *Config, command string, targets needs, body func(context.Context, *Config, *report.Report) error) (*report.Report, error) {
	cfg.defaults()
	report := &report.Report{Tool: "mxmigrate", Version: cfg.Version, Command: command, Backup: filepath.Base(cfg.Backup), StartedAt: time.Now().UTC()}
	err := cfg.validate(targets)
	if err == nil {
		err = body(ctx, cfg, report)
	}
	if err == nil && !report.Verified() {
		err = exitcode.With(exitcode.VerifyFailed, errors.New("verification failed: see the report"))
	}
	if ctx.Err() != nil && err != nil {
		err = exitcode.With(exitcode.Interrupted, fmt.Errorf("interrupted: %w; run the same command again to resume", err))
	}
	report.FinishedAt = time.Now().UTC()
	report.OK = err == nil
	report.ExitCode = exitcode.Of(err)
	if err != nil {
		report.Error = redact.Text(err.Error())
	}
	return report, err
}

func runDB(ctx context.Context, cfg *Config, report *report.Report) error {
	backup, runDir, cleanup, err := openBackup(cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	stage, err := openDBStage(ctx, cfg, runDir, report)
	if err != nil {
		return err
	}
	defer stage.close()
	end := report.StartPhase("extract dump")
	src, removeDump, err := readDump(ctx, backup, runDir)
	end(err)
	if err != nil {
		return err
	}
	defer removeDump()
	if err := stage.preflight(ctx, src); err != nil {
		return err
	}
	report.DB, err = stage.load(ctx)
	return err
}

func runFiles(ctx context.Context, cfg *Config, report *report.Report) error {
	if cfg.Prune {
		return errPruneNeedsRows
	}
	backup, runDir, cleanup, err := openBackup(cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	files, err := openFilesStage(ctx, cfg, report)
	if err != nil {
		return err
	}
	defer files.close()
	files.start(ctx, runDir, 0)
	end := report.StartPhase("upload files")
	// Nothing is uploaded from a backup whose dump is missing, ambiguous
	// or broken: the dump is read to its end before the first blob. Mendix
	// stores db/ before tree/; an archive in another order is read twice.
	dumpChecked := false
	visitor := snapshot.Visitor{
		Metadata: func(m snapshot.Metadata) error { files.task.SetTotal(m.FilesSize); return nil },
		Dump: func(ctx context.Context, r io.Reader, _ int64) error {
			if err := withDumpInPlace(ctx, backup, func(at io.ReaderAt) error { return checkDump(ctx, r, at) }); err != nil {
				return err
			}
			dumpChecked = true
			return nil
		},
		Blob: func(ctx context.Context, b snapshot.Blob, r io.Reader) error {
			if !dumpChecked {
				return errDumpNotFirst
			}
			return files.add(ctx, b, r)
		},
		Anomaly: files.anomaly(cfg),
	}
	summary, walkErr := backup.Walk(ctx, visitor)
	if errors.Is(walkErr, errDumpNotFirst) {
		cfg.Log.Info("this archive stores files before the dump: reading it twice")
		if _, _, walkErr = readDump(ctx, backup, runDir); walkErr == nil {
			dumpChecked = true
			visitor.Dump = nil
			summary, walkErr = backup.Walk(ctx, visitor)
		}
	}
	upload, err := files.wait()
	report.Upload = upload
	recordAnomalies(report, summary)
	walkErr = sameAsUpload(walkErr, err)
	err = errors.Join(walkErr, err)
	end(err)
	return err
}

// openBackup opens the backup and makes this run's folder for temporary
// files; cleanup removes the folder.
func openBackup(cfg *Config) (backup *snapshot.Backup, runDir string, cleanup func(), err error) {
	if backup, err = snapshot.Open(cfg.Backup); err != nil {
		return nil, "", nil, err
	}
	runDir, cleanup, err = cfg.runDir()
	return backup, runDir, cleanup, err
}

// errDumpNotFirst stops a walk that meets blobs before the dump: the
// preflight must pass before anything is uploaded.
var errDumpNotFirst = errors.New("blobs come before the dump in this archive")

func runMigrate(ctx context.Context, cfg *Config, report *report.Report) error {
	backup, runDir, cleanup, err := openBackup(cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	files, err := openFilesStage(ctx, cfg, report)
	if err != nil {
		return err
	}
	defer files.close()
	stage, err := openDBStage(ctx, cfg, runDir, report)
	if err != nil {
		return err
	}
	defer stage.close()

	// A failed database load stops the walk and the uploads at once.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		loadOnce    sync.Once
		loadStarted bool
		loadDone    = make(chan struct{})
		dbErr       error
	)
	// The load starts with the first blob (or after a walk without any):
	// by then a second dump, which would make the backup ambiguous, has had
	// its place in the archive (db/ comes before tree/).
	startLoad := func() {
		loadOnce.Do(func() {
			loadStarted = true
			go func() {
				defer close(loadDone)
				report.DB, dbErr = stage.load(ctx)
				if dbErr != nil {
					cancel(dbErr)
				}
			}()
		})
	}
	dumpReady := false
	prepareDump := func(src *dbcopy.Source) error {
		if err := stage.preflight(ctx, src); err != nil {
			return err
		}
		dumpReady = true
		return nil
	}

	visitor := snapshot.Visitor{
		Metadata: func(m snapshot.Metadata) error { return nil },
		Anomaly:  files.anomaly(cfg),
		Blob: func(ctx context.Context, b snapshot.Blob, r io.Reader) error {
			if !dumpReady {
				return errDumpNotFirst
			}
			startLoad()
			return files.add(ctx, b, r)
		},
	}
	var filesTotal int64
	visitor.Metadata = func(m snapshot.Metadata) error { filesTotal = m.FilesSize; return nil }
	if backup.Kind() == snapshot.KindFull {
		visitor.Dump = func(ctx context.Context, r io.Reader, size int64) error {
			end := report.StartPhase("extract dump")
			src, err := spoolDump(ctx, runDir, r)
			end(err)
			if err != nil {
				return err
			}
			files.start(ctx, runDir, filesTotal)
			return prepareDump(src)
		}
	} else {
		// The dump is a file already: it is read where it is.
		src, _, err := readDump(ctx, backup, runDir)
		if err != nil {
			return err
		}
		if err := prepareDump(src); err != nil {
			return err
		}
		files.start(ctx, runDir, 0)
	}

	end := report.StartPhase("upload files")
	summary, walkErr := backup.Walk(ctx, visitor)
	if errors.Is(walkErr, errDumpNotFirst) {
		// An archive laid out in an unusual order: read it twice rather
		// than upload before the preflight.
		cfg.Log.Info("this archive stores files before the dump: reading it twice")
		src, _, err := readDump(ctx, backup, runDir)
		if err != nil {
			end(err)
			return err
		}
		files.start(ctx, runDir, filesTotal)
		if err := prepareDump(src); err != nil {
			end(err)
			return err
		}
		visitor.Dump = nil
		summary, walkErr = backup.Walk(ctx, visitor)
	}
	var uploadErr error
	if files.syncer != nil {
		report.Upload, uploadErr = files.wait()
	}
	recordAnomalies(report, summary)
	if walkErr == nil && dumpReady {
		startLoad()
	}
	// Verification lists the store again as soon as the uploads are done,
	// while the database may still be loading: a look at the store taken
	// after the last upload, independent of the run's own bookkeeping (an
	// object deleted or replaced behind its back would show), yet off the
	// window's critical path. It waits on disk for the loaded rows.
	var (
		storeListing *blobsync.Listing
		listErr      error
		listed       = make(chan struct{})
	)
	listCtx, stopListing := context.WithCancel(ctx)
	defer func() {
		stopListing()
		<-listed
		if storeListing != nil {
			storeListing.Close()
		}
	}()
	if walkErr == nil && uploadErr == nil {
		go func() {
			defer close(listed)
			storeListing, listErr = blobsync.ListToDisk(listCtx, files.store, runDir)
		}()
	} else {
		close(listed)
	}
	walkErr = sameAsUpload(walkErr, uploadErr)
	end(errors.Join(walkErr, uploadErr))
	if loadStarted {
		<-loadDone
	}
	if cause := context.Cause(ctx); dbErr == nil && cause != nil && ctx.Err() != nil {
		return errors.Join(walkErr, uploadErr, cause)
	}
	if err := errors.Join(dbErr, walkErr, uploadErr); err != nil {
		return err
	}

	endVerify := report.StartPhase("verify files")
	<-listed
	err = listErr
	if err == nil {
		report.Blobs, err = verify.CompareListedFiles(ctx, stage.target, storeListing, cfg.FileTable, files.blobs)
	}
	endVerify(err)
	if err != nil || !cfg.Prune || !report.Verified() {
		return err
	}
	endPrune := report.StartPhase("prune")
	report.Prune, err = files.prune(ctx, stage.target)
	endPrune(err)
	return err
}

// sameAsUpload drops the walk's error when it is only the uploader's
// giving up on a dead store, which the upload error states with its counts.
func sameAsUpload(walkErr, uploadErr error) error {
	var inWalk, inUpload *blobsync.StoreGoneError
	if errors.As(walkErr, &inWalk) && errors.As(uploadErr, &inUpload) && inWalk == inUpload {
		return nil
	}
	return walkErr
}

func logAnomaly(cfg *Config) func(snapshot.Anomaly) {
	return func(a snapshot.Anomaly) {
		cfg.Log.Warn("backup anomaly", "entry", a.Entry, "problem", a.Problem)
	}
}

func recordAnomalies(report *report.Report, s *snapshot.Summary) {
	if s == nil {
		return
	}
	for _, a := range s.Anomalies {
		report.Anomalies = append(report.Anomalies, a.Entry+": "+a.Problem)
	}
}
