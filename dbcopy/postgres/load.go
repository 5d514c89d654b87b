package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// nextPhase is the phase after each one.
var nextPhase = map[string]string{
	phasePreData:  phaseData,
	phaseData:     phasePostData,
	phasePostData: phaseDone,
}

// loader carries what the phases of one Load share.
type loader struct {
	t       *Target
	conn    *pgx.Conn // for state, counts and drops; pg_restore has its own
	tool    restoreTool
	child   childConn
	src     *dbcopy.Source
	opts    dbcopy.Options
	workDir string
}

// Load restores src into the target, continuing an interrupted load of the
// same backup. It runs Preflight again first, because a refusal must stop
// the writer whoever calls it, and it requires the lock.
func (t *Target) Load(ctx context.Context, src *dbcopy.Source, opts dbcopy.Options) error {
	return t.loadUntil(ctx, src, opts, phaseDone)
}

// loadUntil is Load stopping before phase until, so that tests can leave a
// target exactly where a run in that phase would be.
func (t *Target) loadUntil(ctx context.Context, src *dbcopy.Source, opts dbcopy.Options, until string) error {
	if err := t.checkLock(ctx); err != nil {
		return err
	}
	if src.DumpPath == "" {
		return exitcode.With(exitcode.BadInput, errors.New("no dump file to restore from"))
	}
	if opts.Jobs <= 0 {
		opts.Jobs = t.opts.Jobs
	}
	if opts.Log != nil {
		t.log = opts.Log
	}
	if opts.Progress == nil {
		opts.Progress = t.opts.Progress
	}
	res, err := t.Preflight(ctx, src, opts)
	if err != nil {
		return err
	}
	if res.AlreadyDone {
		t.log.Info("this backup is already loaded: nothing to do", "target", t.String())
		return nil
	}
	tool, err := findRestore()
	if err != nil {
		return err
	}
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer closeQuietly(conn)
	workDir, err := os.MkdirTemp(opts.WorkDir, "mxmigrate-pg-")
	if err != nil {
		return fmt.Errorf("create a work folder: %w", err)
	}
	defer os.RemoveAll(workDir)

	l := &loader{t: t, conn: conn, tool: tool, child: newChildConn(t.url), src: src, opts: opts, workDir: workDir}
	return interrupted(ctx, l.run(ctx, until))
}

// run takes the load from where it stands up to (not including) phase
// until.
func (l *loader) run(ctx context.Context, until string) error {
	if err := l.t.endOrphanRestores(ctx, l.conn); err != nil {
		return err
	}
	phase, err := l.startingPhase(ctx)
	if err != nil {
		return err
	}
	started := time.Now()
	for phase != until && phase != phaseDone {
		if err := l.t.checkLock(ctx); err != nil {
			return err
		}
		t0 := time.Now()
		if err := l.runPhase(ctx, phase); err != nil {
			return err
		}
		next := nextPhase[phase]
		if err := setPhase(ctx, l.conn, l.t.schema, l.src.Fingerprint, next); err != nil {
			return err
		}
		l.t.log.Info("phase finished", "phase", phase, "took", time.Since(t0).Round(time.Millisecond))
		phase = next
	}
	if phase == phaseDone {
		l.t.log.Info("load finished", "target", l.t.String(), "took", time.Since(started).Round(time.Millisecond))
	}
	return nil
}

// startingPhase continues this backup's recorded phase, or records a new
// load that starts with pre-data (which empties the schema: Preflight has
// made sure that is allowed).
func (l *loader) startingPhase(ctx context.Context) (string, error) {
	st, err := readState(ctx, l.conn, l.t.schema)
	if err != nil {
		return "", err
	}
	if st != nil && st.Fingerprint == l.src.Fingerprint {
		if _, known := nextPhase[st.Phase]; !known && st.Phase != phaseDone {
			return "", exitcode.With(exitcode.PreflightRefused, fmt.Errorf("mxmigrate.migration records an unknown phase %q: use --if-exists drop to start over", st.Phase))
		}
		l.t.log.Info("resuming an interrupted load", "phase", st.Phase)
		return st.Phase, nil
	}
	if err := startState(ctx, l.conn, l.t.schema, l.src.Fingerprint); err != nil {
		return "", err
	}
	return phasePreData, nil
}

func (l *loader) runPhase(ctx context.Context, phase string) error {
	switch phase {
	case phasePreData:
		return l.preData(ctx)
	case phaseData:
		return l.data(ctx)
	case phasePostData:
		return l.postData(ctx)
	}
	return fmt.Errorf("unknown phase %q", phase)
}

// restoreSection runs pg_restore over one section of the archive, for the
// items keep accepts. jobs > 1 runs it in parallel.
func (l *loader) restoreSection(ctx context.Context, section string, list *tocList, keep func(tocItem) bool, jobs int) error {
	text, kept := list.render(keep)
	l.t.log.Info("restoring", "section", section, "items", kept, "skipped", len(list.items)-kept)
	progress := newProgressCounter(l.opts.Progress, section, int64(kept), jobs > 1)
	if kept == 0 {
		return nil
	}
	listFile, err := writeList(l.workDir, section, text)
	if err != nil {
		return err
	}
	defer os.Remove(listFile)
	args := []string{
		"--no-owner", "--no-privileges", "--no-tablespaces", "--no-subscriptions",
		"--exit-on-error", "--verbose",
		"--section=" + section, "--use-list=" + listFile,
		"--dbname=" + l.child.url,
	}
	if jobs > 1 {
		args = append(args, fmt.Sprintf("--jobs=%d", jobs))
	}
	args = append(args, l.src.DumpPath)
	err = runChild(ctx, l.tool.path, args, l.child, func(line string) {
		l.t.log.Debug("pg_restore", "line", line)
		progress.line(line)
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("pg_restore (%s) into %s failed: %w", section, l.t, err)
	}
	progress.finish()
	return nil
}
