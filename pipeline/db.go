package pipeline

import (
	"context"
	"fmt"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/report"
	"github.com/mxmigrate/mxmigrate/verify"
)

// dbStage moves the dump into the target database. Its steps are split so
// that a migration can take the lock before reading the backup and run the
// preflight before a single blob is uploaded.
type dbStage struct {
	cfg      *Config
	opts     dbcopy.Options
	target   dbcopy.Target
	unlock   func()
	report   *report.Report
	progress *dbProgress

	src     *dbcopy.Source
	pre     *dbcopy.PreflightResult
	counted chan countResult
}

// countResult is the source with every table's row count, or why it could
// not be counted.
type countResult struct {
	src *dbcopy.Source
	err error
}

// openDBStage connects to the target and takes its migration lock.
func openDBStage(ctx context.Context, cfg *Config, runDir string, report *report.Report) (*dbStage, error) {
	url, err := cfg.resolveDB(ctx)
	if err != nil {
		return nil, err
	}
	s := &dbStage{cfg: cfg, opts: cfg.dbOptions(runDir), report: report, progress: newDBProgress(cfg.Progress)}
	s.opts.Progress = s.progress.asOption()
	end := report.StartPhase("connect and lock")
	s.target, err = openTarget(ctx, url, s.opts)
	if err != nil {
		end(err)
		return nil, err
	}
	report.Database = s.target.String()
	report.DatabaseIdentity = redact.Text(dbcopy.IdentityOf(s.target))
	s.unlock, err = s.target.Lock(ctx, cfg.WaitLock)
	err = refusedCredentials(err)
	end(err)
	if err != nil {
		s.target.Close()
		return nil, err
	}
	return s, nil
}

// close releases the lock and the connections.
func (s *dbStage) close() {
	if s.unlock != nil {
		s.unlock()
	}
	s.target.Close()
}

// preflight runs the target's preflight checks for src, a dump that was
// read to its end (see readDump) and so carries every table's row count.
func (s *dbStage) preflight(ctx context.Context, src *dbcopy.Source) error {
	end := s.report.StartPhase("preflight")
	var err error
	s.src = src
	s.cfg.Log.Info("dump", "archive", s.src.ArchiveVersion, "server", s.src.ServerVersion, "pg_dump", s.src.DumpVersion,
		"tables", len(s.src.Tables), "sequences", len(s.src.Sequences), "indexes", len(s.src.Indexes))

	// The rows were counted while the dump was read, before any write.
	s.counted = make(chan countResult, 1)
	s.counted <- countResult{src, nil}
	var rows int64
	for _, t := range src.Tables {
		rows += t.Rows
	}
	s.progress.setRows(rows)

	s.pre, err = s.target.Preflight(ctx, s.src)
	if s.pre != nil {
		for _, c := range s.pre.Checks {
			level := "ok"
			switch {
			case !c.OK:
				level = "REFUSED"
			case c.Warn:
				level = "warning"
				s.report.Warnings = append(s.report.Warnings, c.Name+": "+c.Detail)
			}
			s.cfg.Log.Info("preflight "+c.Name, "result", level, "detail", c.Detail)
		}
		for _, obj := range s.pre.ToDrop {
			s.cfg.Log.Warn("will drop existing object (--if-exists drop)", "object", obj)
		}
	}
	end(err)
	return err
}

// load writes the dump into the target (resuming or skipping as the
// preflight found) and compares the result with the dump.
func (s *dbStage) load(ctx context.Context) (*verify.DBReport, error) {
	src := s.src
	if s.pre.Resumable {
		// Resuming decides per table by comparing counts: they are needed
		// before the load.
		full, err := s.waitCounts()
		if err != nil {
			return nil, err
		}
		src = full
		s.cfg.Log.Info("resuming an interrupted migration of this backup")
	}
	if s.pre.AlreadyDone {
		// Only the database: the files are uploaded (or skipped) on their own.
		s.cfg.Log.Info("the database of this backup is already loaded into the target; verifying it only")
	} else {
		end := s.report.StartPhase("restore database")
		err := s.target.Load(ctx, src)
		s.progress.finish()
		end(err)
		if err != nil {
			return nil, err
		}
	}
	end := s.report.StartPhase("verify database")
	full, err := s.waitCounts()
	if err != nil {
		end(err)
		return nil, err
	}
	inv, err := s.target.Inventory(ctx)
	if err != nil {
		end(err)
		return nil, err
	}
	result := verify.CompareDatabase(full, inv)
	if s.cfg.Checksums {
		if err := compareContents(ctx, s.src.DumpPath, s.target, result, s.cfg.Jobs); err != nil {
			end(err)
			return nil, err
		}
	}
	if !result.OK() {
		err = exitcode.With(exitcode.VerifyFailed, fmt.Errorf("the target database differs from the backup: %s", firstLine(result.Problems())))
	}
	end(err)
	return result, err
}

func (s *dbStage) waitCounts() (*dbcopy.Source, error) {
	r := <-s.counted
	s.counted <- r // later callers get the same answer
	if r.err != nil {
		return nil, fmt.Errorf("count the dump's rows: %w", r.err)
	}
	return r.src, nil
}

func firstLine(lines []string) string {
	if len(lines) == 0 {
		return "see the report"
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%s (and %d more)", lines[0], len(lines)-1)
}
