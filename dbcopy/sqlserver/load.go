package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// Load creates the tables, copies the data, then creates keys, indexes
// and sequences, each step skipped when an interrupted run of the same
// backup already did it.
func (t *target) Load(ctx context.Context, src *dbcopy.Source) error {
	opts := t.opts
	progress := opts.Progress
	if progress == nil {
		progress = noProgress{}
	}
	st, err := readState(ctx, t.db, t.schema)
	if err != nil {
		return err
	}
	if st.Fingerprint == src.Fingerprint && st.Status == statusDone {
		t.loaded = true
		return nil
	}
	p, err := t.prepare(ctx, src, opts)
	if err != nil {
		return err
	}
	if len(p.plan.Problems) > 0 {
		return dbcopy.PreflightRefused(errors.New("cannot load: " + strings.Join(p.plan.Problems, "; ")))
	}
	if len(p.collisions) > 0 {
		return dbcopy.PreflightRefused(errors.New(describeCollisions(p.collation, p.collisions)))
	}
	// fresh: this run emptied the schema, so none of the objects it
	// creates exists yet, and their existence need not be looked up (a
	// catalog query per object, slow on some servers).
	fresh := st.Fingerprint != src.Fingerprint || st.Status != statusLoading
	if fresh {
		if err := t.startFresh(ctx, src, opts); err != nil {
			return err
		}
	} else {
		t.log.Info("resuming an interrupted load", "target", t.String())
		if err := createStateTables(ctx, t.db); err != nil {
			return err
		}
	}

	progress.Phase("schema", int64(len(p.plan.Tables)))
	if err := t.createTables(ctx, p.plan, progress); err != nil {
		return err
	}
	if err := t.loadTables(ctx, p, src, jobs(opts), fresh, progress); err != nil {
		return err
	}
	progress.Phase("sequences", int64(len(p.plan.Sequences)))
	if err := t.runSteps(ctx, p.plan.Sequences, fresh, progress); err != nil {
		return err
	}
	if err := finishLoad(ctx, t.db, t.schema); err != nil {
		return err
	}
	t.loaded = true
	return nil
}

// loadTables copies every table not done yet and builds the keys,
// indexes and foreign keys, all within one budget of jobs statements at a
// time, so that the server is not given more than --jobs asks for:
// copies start largest first (so the last ones to finish are small), and
// a table's keys and indexes are built as soon as its data is in, ahead
// of the copies still waiting; a foreign key once both its tables have
// their keys.
func (t *target) loadTables(ctx context.Context, p *prepared, src *dbcopy.Source, jobs int, fresh bool, progress dbcopy.Progress) error {
	statuses, err := tableStatuses(ctx, t.db, t.schema)
	if err != nil {
		return err
	}
	rows := map[string]int64{}
	for _, st := range src.Tables {
		rows[st.Name] = st.Rows
	}
	var todo []*plannedTable
	var total int64
	for _, pt := range p.plan.Tables {
		if statuses[pt.Source.Name] == statusDone {
			continue
		}
		todo = append(todo, pt)
		if n := rows[pt.Source.Name]; n > 0 && total >= 0 {
			total += n
		} else if n < 0 {
			total = -1 // unknown until the dump is counted
		}
	}
	sort.SliceStable(todo, func(i, j int) bool { return p.dataSize[todo[i].Source.Name] > p.dataSize[todo[j].Source.Name] })
	copies := make([]tableCopy, len(todo))
	for i, pt := range todo {
		streams := p.streamsFor(pt.Source.Name, jobs)
		copies[i] = tableCopy{table: pt.Source.Name, streams: streams, run: func(ctx context.Context) error {
			return t.copyTable(ctx, p, pt, streams, progress)
		}}
	}
	progress.Phase("data", max(total, 0))
	phases := newKeyPhase(progress, t.log, len(copies), len(p.plan.Keys))
	build := func(ctx context.Context, s step) error { return t.runStep(ctx, s, fresh) }
	if err := runTasks(ctx, jobs, loadTasks(copies, p.plan.Keys, build, phases)); err != nil {
		return err
	}
	phases.finished()
	return nil
}

// startFresh empties the target schema (when allowed) and records a new
// load.
func (t *target) startFresh(ctx context.Context, src *dbcopy.Source, opts dbcopy.Options) error {
	objects, err := listObjects(ctx, t.db, t.schema)
	if err != nil {
		return err
	}
	if len(objects) > 0 {
		if opts.IfExists != dbcopy.IfExistsDrop {
			return dbcopy.PreflightRefused(errors.New(emptinessCheck(t.schema, objects, false, opts.IfExists).Detail))
		}
		t.log.Info("dropping the objects of the target schema", "schema", t.schema, "objects", len(objects))
		if err := dropObjects(ctx, t.db, t.schema, objects); err != nil {
			return err
		}
	}
	return beginLoad(ctx, t.db, t.schema, src.Fingerprint)
}

func (t *target) createTables(ctx context.Context, plan *loadPlan, progress dbcopy.Progress) error {
	// CREATE SCHEMA must run alone in its batch: EXEC gives it one.
	if _, err := t.db.ExecContext(ctx, `IF SCHEMA_ID(@p1) IS NULL BEGIN
DECLARE @create nvarchar(400) = N'CREATE SCHEMA ' + QUOTENAME(@p1); EXEC (@create) END`, t.schema); err != nil {
		return fmt.Errorf("create schema %s: %w", quoteIdent(t.schema), err)
	}
	for _, pt := range plan.Tables {
		var exists int
		if err := t.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sys.tables WHERE schema_id = SCHEMA_ID(@p1) AND name = @p2`, t.schema, pt.Source.Name).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			if _, err := t.db.ExecContext(ctx, pt.Create); err != nil {
				return fmt.Errorf("create table %s: %w", qualified(t.schema, pt.Source.Name), err)
			}
		}
		progress.Add(1)
	}
	return nil
}

// runSteps creates the objects that do not exist yet (in a fresh load,
// every one), one after another.
func (t *target) runSteps(ctx context.Context, steps []step, fresh bool, progress dbcopy.Progress) error {
	for _, s := range steps {
		if err := t.runStep(ctx, s, fresh); err != nil {
			return stepError(s, err)
		}
		progress.Add(1)
	}
	return nil
}

// runStep creates the object of s unless a resumed (not fresh) load finds
// it made already, and records the indexes an export must know about.
// Its errors do not name the object: stepError does.
func (t *target) runStep(ctx context.Context, s step, fresh bool) error {
	exists := false
	if !fresh {
		var err error
		if exists, err = stepExists(ctx, t.db, t.schema, s); err != nil {
			return err
		}
	}
	if !exists {
		started := time.Now()
		if _, err := t.db.ExecContext(ctx, s.SQL); err != nil {
			return err
		}
		t.log.Debug("created", "kind", s.Kind, "name", s.Name, "table", s.Table, "took", time.Since(started).Round(time.Millisecond))
	}
	var list string
	switch {
	case s.Kind == "unique index":
		list = uniqueKeyList
	case s.NullsNotDistinct && s.Kind == "index":
		list = nullsNotDistinctList
	}
	if list != "" {
		return recordIndex(ctx, t.db, list, t.schema, s.Table, s.Name)
	}
	return nil
}

// stepError names the object a step failed to create.
func stepError(s step, err error) error {
	if s.Table == "" {
		return fmt.Errorf("create %s %s: %w", s.Kind, quoteIdent(s.Name), err)
	}
	return fmt.Errorf("create %s %s on table %s: %w", s.Kind, quoteIdent(s.Name), quoteIdent(s.Table), err)
}

func stepExists(ctx context.Context, db *sql.DB, schema string, s step) (bool, error) {
	var query string
	var args []any
	switch s.Kind {
	case "sequence":
		query, args = `SELECT COUNT(*) FROM sys.sequences WHERE schema_id = SCHEMA_ID(@p1) AND name = @p2`, []any{schema, s.Name}
	case "index", "unique index":
		query, args = `SELECT COUNT(*) FROM sys.indexes WHERE object_id = OBJECT_ID(@p1) AND name = @p2`, []any{qualified(schema, s.Table), s.Name}
	default: // constraints
		query, args = `SELECT (SELECT COUNT(*) FROM sys.key_constraints WHERE parent_object_id = OBJECT_ID(@p1) AND name = @p2)
	+ (SELECT COUNT(*) FROM sys.foreign_keys WHERE parent_object_id = OBJECT_ID(@p1) AND name = @p2)`, []any{qualified(schema, s.Table), s.Name}
	}
	var n int
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("look it up in the catalog: %w", err)
	}
	return n > 0, nil
}

type noProgress struct{}

func (noProgress) Phase(string, int64) {}
func (noProgress) Add(int64)           {}
