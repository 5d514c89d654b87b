package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
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
	// native is set when the native loader restores, instead of
	// pg_restore.
	native *nativeLoad
}

// Load restores src into the target, continuing an interrupted load of the
// same backup. It runs Preflight again first, because a refusal must stop
// the writer whoever calls it, and it requires the lock.
func (t *Target) Load(ctx context.Context, src *dbcopy.Source) error {
	return t.loadUntil(ctx, src, phaseDone)
}

// loadUntil is Load stopping before phase until, so that tests can leave a
// target exactly where a run in that phase would be.
func (t *Target) loadUntil(ctx context.Context, src *dbcopy.Source, until string) error {
	if err := t.checkLock(ctx); err != nil {
		return err
	}
	if src.DumpPath == "" {
		return exitcode.With(exitcode.BadInput, errors.New("no dump file to restore from"))
	}
	opts := t.opts
	res, err := t.Preflight(ctx, src)
	if err != nil {
		return err
	}
	if res.AlreadyDone {
		t.log.Info("this backup is already loaded: nothing to do", "target", t.String())
		return nil
	}
	var tool restoreTool
	if opts.Loader == LoaderPgRestore {
		if tool, err = findRestore(); err != nil {
			return err
		}
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
	if opts.Loader != LoaderPgRestore {
		if l.native, err = newNativeLoad(ctx, l); err != nil {
			return interrupted(ctx, err)
		}
		defer l.native.close()
	}
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
	// A load that starts from an empty schema runs data and post-data as
	// one pg_restore, as a bare pg_restore -j does, so that indexes of
	// loaded tables are built while a large table is still copying. The
	// state still says "data" while it runs: a rerun after a kill resumes
	// phase by phase, which is correct for any point of the fused run
	// (each table is complete or empty; each index exists or not).
	fused := phase == phasePreData && until == phaseDone
	started := time.Now()
	for phase != until && phase != phaseDone {
		if err := l.t.checkLock(ctx); err != nil {
			return err
		}
		t0 := time.Now()
		next := nextPhase[phase]
		if l.native != nil {
			var err error
			if next, err = l.native.runPhase(ctx, phase, until); err != nil {
				return err
			}
		} else if fused && phase == phaseData {
			if err := l.dataAndPostData(ctx); err != nil {
				return err
			}
			next = phaseDone
		} else if err := l.runPhase(ctx, phase); err != nil {
			return err
		}
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
			return "", dbcopy.PreflightRefused(fmt.Errorf("mxmigrate.migration records an unknown phase %q: use --if-exists drop to start over", st.Phase))
		}
		l.t.log.Info("resuming an interrupted load", "phase", st.Phase)
		return st.Phase, nil
	}
	if err := startState(ctx, l.conn, l.t.schema, l.src.Fingerprint); err != nil {
		return "", err
	}
	return phasePreData, nil
}

// runPhase runs one phase natively and says which phase comes next. From
// data it runs data and post-data together (unless the caller stops
// before post-data): each table's indexes and constraints are built as
// soon as its data is in, while other tables still load.
func (n *nativeLoad) runPhase(ctx context.Context, phase, until string) (next string, err error) {
	switch phase {
	case phasePreData:
		return phaseData, n.preData(ctx)
	case phaseData:
		if until == phasePostData {
			return phasePostData, n.schedule(ctx, dataSection, phaseData)
		}
		return phaseDone, n.schedule(ctx, dataSection|postDataSection, "data and post-data")
	case phasePostData:
		return phaseDone, n.schedule(ctx, postDataSection, phasePostData)
	}
	return "", fmt.Errorf("unknown phase %q", phase)
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
	return l.restoreSections(ctx, section, []string{section}, list, keep, jobs)
}

// restoreSections is restoreSection over several sections in one run,
// named label in logs and progress.
func (l *loader) restoreSections(ctx context.Context, label string, sections []string, list *tocList, keep func(tocItem) bool, jobs int) error {
	text, kept := list.render(keep)
	l.t.log.Info("restoring", "section", label, "items", kept, "skipped", len(list.items)-kept)
	progress := newProgressCounter(l.opts.Progress, label, int64(kept), jobs > 1)
	if kept == 0 {
		return nil
	}
	listFile, err := writeList(l.workDir, strings.Join(sections, "+"), text)
	if err != nil {
		return err
	}
	defer os.Remove(listFile)
	args := []string{
		"--no-owner", "--no-privileges", "--no-tablespaces", "--no-subscriptions",
		"--exit-on-error", "--verbose", "--use-list=" + listFile, "--dbname=" + l.child.url,
	}
	for _, s := range sections {
		args = append(args, "--section="+s)
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
		return fmt.Errorf("pg_restore (%s) into %s failed: %w", label, l.t, err)
	}
	progress.finish()
	return nil
}
