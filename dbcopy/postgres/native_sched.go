package postgres

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// schedItem is one entry of the parallel part of a load.
type schedItem struct {
	pe         planEntry
	waiting    int // dependencies not finished yet
	dependents []*schedItem
	locks      []lockReq
	size       int64 // priority: bigger first
	// Table data only.
	split    bool // several connections may copy it at once
	freeze   bool // COPY FREEZE into the table truncated in the same transaction
	truncate bool // holds rows of an interrupted load: empty it first
}

// lockReq is a table a post-data item locks: CREATE INDEX shares the
// table with other index builds, anything else (ALTER TABLE ... ADD
// CONSTRAINT, triggers, ...) needs it alone. pg_restore leaves such
// conflicts to the server's lock queue; keeping them apart here keeps a
// connection from idling behind a lock, and two foreign keys between the
// same tables from deadlocking.
type lockReq struct {
	table     int // the TABLE entry's dump ID
	exclusive bool
}

// activeSplit is a split table being copied.
type activeSplit struct {
	item    *schedItem
	stream  *splitStream
	closed  bool // its text is all taken: no more readers join
	readers int
	parts   sync.WaitGroup

	errMu sync.Mutex
	err   error
}

func (a *activeSplit) fail(err error) {
	a.errMu.Lock()
	if a.err == nil {
		a.err = err
	}
	a.errMu.Unlock()
	a.stream.cancel(err)
}

// task is what a worker does next: an item, or a part of a split table.
type task struct {
	item *schedItem
	join *activeSplit
}

// scheduler runs the items on Options.Jobs connections, each item once
// its dependencies are done, biggest first; an idle connection joins the
// copy of a split table.
type scheduler struct {
	n      *nativeLoad
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu        sync.Mutex
	cond      *sync.Cond
	ready     []*schedItem
	remaining int
	locks     map[int]int // table -> number of shared holders, -1 when exclusive
	splits    []*activeSplit
	busy      int // connections running a task
	err       error
	progress  itemProgress
}

// sections says which parts of the dump a schedule runs.
type sections uint8

const (
	dataSection sections = 1 << iota
	postDataSection
)

func (s sections) has(part sections) bool { return s&part != 0 }

// schedule loads the data and builds the post-data objects of the given
// sections that are not there yet, in parallel.
func (n *nativeLoad) schedule(ctx context.Context, parts sections, label string) error {
	items, err := n.buildItems(ctx, parts)
	if err != nil {
		return err
	}
	l := n.l
	l.t.log.Info("restoring", "section", label, "items", len(items))
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	entries := 0 // the counts are the verification's, not entries
	for _, it := range items {
		if it.pe.act != actCount {
			entries++
		}
	}
	s := &scheduler{n: n, ctx: ctx, cancel: cancel, locks: map[int]int{}, remaining: len(items),
		progress: newItemProgress(l.opts.Progress, label, int64(entries))}
	s.cond = sync.NewCond(&s.mu)
	for _, it := range items {
		if it.waiting == 0 {
			s.ready = append(s.ready, it)
		}
	}
	if len(items) == 0 {
		return nil
	}
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()

	// The only queries of these sessions are the verification's counts,
	// which run beside the loads: parallel workers would only take CPU
	// from them.
	extra := []string{"SET max_parallel_workers_per_gather = 0"}
	jobs := max(1, min(l.opts.Jobs, len(items)+1))
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() { s.worker(extra) })
	}
	wg.Wait()
	if s.err != nil {
		return interrupted(parent, s.err)
	}
	return parent.Err()
}

// logTask says at debug level what a connection did and how long it took.
func (s *scheduler) logTask(t *task, started time.Time, err error) {
	what, e := "item", (*pgdump.Entry)(nil)
	if t.item != nil {
		e = t.item.pe.e
		if t.item.split {
			what = "split table"
		}
	} else {
		what, e = "part of a split table", t.join.item.pe.e
	}
	s.n.l.t.log.Debug("restored", "what", what, "entry", e.String(), "took", time.Since(started).Round(time.Millisecond), "err", err)
}

func (s *scheduler) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.cancel(err)
	s.cond.Broadcast()
	s.mu.Unlock()
}

func (s *scheduler) worker(extra []string) {
	c, err := s.n.connect(s.ctx, extra...)
	if err != nil {
		s.fail(err)
		return
	}
	defer c.close()
	for {
		t := s.next()
		if t == nil {
			return
		}
		started := time.Now()
		err := s.run(c, t)
		s.logTask(t, started, err)
		if err != nil {
			s.fail(err)
			return
		}
		s.finish(t)
	}
}

// alone is true when the calling connection's task is the only work the
// load has right now: no other connection busy, no split table being
// copied, and no ready item that could start (one waiting for a table the
// running task holds cannot).
func (s *scheduler) alone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy != 1 || len(s.splits) > 0 {
		return false
	}
	for _, it := range s.ready {
		if !s.conflicts(it) {
			return false
		}
	}
	return true
}

// buildsIndex is true for the post-data entries that sort a table into a
// new index: CREATE INDEX and ADD CONSTRAINT ... PRIMARY KEY / UNIQUE /
// EXCLUDE.
func buildsIndex(e *pgdump.Entry) bool {
	return e.Desc == "INDEX" || e.Desc == "CONSTRAINT"
}

// setIndexWorkers lets an index build use the server's parallel workers
// only when it runs alone: while other connections load or build, the
// server's cores are busy already, and a parallel build costs more CPU in
// all (worker start, each worker's share of maintenance_work_mem sorted
// apart, often on disk, then merged) for no gain in time. Called with the
// connection idle, before the entry runs.
func (s *scheduler) setIndexWorkers(c *loadConn, t *task) error {
	if t.item == nil || !buildsIndex(t.item.pe.e) {
		return nil
	}
	alone := s.alone()
	if alone == !c.serialIndexes {
		return nil
	}
	stmt := "SET max_parallel_maintenance_workers = 0"
	if alone {
		stmt = "RESET max_parallel_maintenance_workers"
	}
	if err := c.exec(s.ctx, stmt); err != nil {
		return entryError(t.item.pe.e, err, stmt)
	}
	c.serialIndexes = !alone
	return nil
}

// next waits for work: nil when everything is done or the load failed.
func (s *scheduler) next() *task {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.err != nil || s.ctx.Err() != nil || s.remaining == 0 {
			return nil
		}
		if t := s.pick(); t != nil {
			s.busy++
			return t
		}
		s.cond.Wait()
	}
}

// pick chooses the biggest ready item whose tables are free, unless
// joining a split table's copy is worth more. Called with s.mu held.
func (s *scheduler) pick() *task {
	best := -1
	for i, it := range s.ready {
		if s.conflicts(it) {
			continue
		}
		if best < 0 || it.size > s.ready[best].size {
			best = i
		}
	}
	var join *activeSplit
	var joinWorth int64
	for _, a := range s.splits {
		if worth := a.item.size / int64(a.readers+1); !a.closed && (join == nil || worth > joinWorth) {
			join, joinWorth = a, worth
		}
	}
	if join != nil && (best < 0 || joinWorth > s.ready[best].size) {
		join.readers++
		join.parts.Add(1)
		return &task{join: join}
	}
	if best < 0 {
		return nil
	}
	it := s.ready[best]
	s.ready = append(s.ready[:best], s.ready[best+1:]...)
	for _, lk := range it.locks {
		if lk.exclusive {
			s.locks[lk.table] = -1
		} else {
			s.locks[lk.table]++
		}
	}
	t := &task{item: it}
	if it.split {
		a := &activeSplit{item: it, stream: newSplitStream(s.ctx, chunkBytes, s.n.l.opts.Jobs), readers: 1}
		a.parts.Add(1)
		s.splits = append(s.splits, a)
		t.join = a
	}
	return t
}

func (s *scheduler) conflicts(it *schedItem) bool {
	for _, lk := range it.locks {
		held := s.locks[lk.table]
		if held < 0 || (lk.exclusive && held > 0) {
			return true
		}
	}
	return false
}

// finish records a task done and readies what waited for it.
func (s *scheduler) finish(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.cond.Broadcast()
	s.busy--
	it := t.item
	if it == nil {
		return // a part of a split table: its leader finishes the item
	}
	for _, lk := range it.locks {
		if lk.exclusive {
			delete(s.locks, lk.table)
		} else if s.locks[lk.table]--; s.locks[lk.table] <= 0 {
			delete(s.locks, lk.table)
		}
	}
	s.remaining--
	for _, d := range it.dependents {
		if d.waiting--; d.waiting == 0 {
			s.ready = append(s.ready, d)
		}
	}
	if it.pe.act != actCount {
		s.progress.add(1)
	}
}

func (s *scheduler) run(c *loadConn, t *task) error {
	ctx := s.ctx
	if err := s.setIndexWorkers(c, t); err != nil {
		return err
	}
	if t.item == nil {
		err := s.copyPart(c, t.join)
		s.mu.Lock()
		t.join.readers--
		s.mu.Unlock()
		return err
	}
	pe := t.item.pe
	switch pe.act {
	case actTableData:
		if t.item.split {
			return s.copySplit(c, t.join)
		}
		return s.n.loadTable(ctx, c, t.item)
	case actBlobData:
		return s.n.loadBlobs(ctx, c, pe.e)
	case actCount:
		var rows int64
		q := "SELECT count(*) FROM " + qualifiedName(pe.e)
		if err := c.conn.QueryRow(ctx, q).Scan(&rows); err != nil {
			return entryError(pe.e, err, q)
		}
		s.n.l.t.recordCount(pe.e.Tag, rows)
		return nil
	default:
		return c.runSQL(ctx, pe)
	}
}

// copySplit leads the copy of a split table: it cuts the text into chunks
// for its own COPY and those of the connections that join, waits for every
// part to commit, and then records the table as loaded. A kill before that
// leaves the table unrecorded, and the next run empties and reloads it.
func (s *scheduler) copySplit(c *loadConn, a *activeSplit) error {
	ctx := s.ctx
	e := a.item.pe.e
	if a.item.truncate {
		if err := c.exec(ctx, "TRUNCATE TABLE ONLY "+qualifiedName(e)); err != nil {
			a.fail(err)
			a.parts.Done()
			return entryError(e, err, "TRUNCATE TABLE ONLY "+qualifiedName(e))
		}
	}
	produced := make(chan error, 1)
	go func() {
		data, err := s.n.af.OpenData(a.stream.ctx, e)
		if err != nil {
			a.fail(err)
			close(a.stream.chunks)
			produced <- err
			return
		}
		err = a.stream.produce(reportRows(data, s.n.l.opts.Progress, e.Tag))
		data.Close()
		produced <- err
	}()
	own := s.copyPart(c, a)
	s.mu.Lock()
	a.closed = true
	a.readers--
	s.mu.Unlock()
	a.parts.Wait()
	perr := <-produced
	s.mu.Lock()
	for i, x := range s.splits {
		if x == a {
			s.splits = append(s.splits[:i], s.splits[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	for _, err := range []error{own, a.err, perr} {
		if err != nil {
			return err
		}
	}
	return s.n.mark(ctx, c.conn, e)
}

// copyPart runs one COPY that reads chunks of a split table until there
// are none left.
func (s *scheduler) copyPart(c *loadConn, a *activeSplit) error {
	defer a.parts.Done()
	e := a.item.pe.e
	if err := c.prepare(s.ctx, e); err != nil {
		a.fail(err)
		return err
	}
	r := &partReader{s: a.stream}
	_, err := c.conn.PgConn().CopyFrom(a.stream.ctx, r, e.CopyStmt)
	r.close()
	if err != nil {
		err = entryError(e, err, e.CopyStmt)
		a.fail(err)
		return err
	}
	partCommitted(e)
	return nil
}

// loadTable copies a table's data with one COPY in one transaction that
// also records the table as loaded. A table this run created is truncated
// in the same transaction, which lets COPY FREEZE write its rows frozen.
func (n *nativeLoad) loadTable(ctx context.Context, c *loadConn, it *schedItem) error {
	e := it.pe.e
	if err := c.prepare(ctx, e); err != nil {
		return err
	}
	data, err := n.af.OpenData(ctx, e)
	if err != nil {
		return err
	}
	defer data.Close()
	stmt := e.CopyStmt
	steps := []string{"BEGIN"}
	if it.freeze || it.truncate {
		steps = append(steps, "TRUNCATE TABLE ONLY "+qualifiedName(e))
	}
	if it.freeze {
		stmt = freezeCopy(stmt)
	}
	for _, sql := range steps {
		if err := c.exec(ctx, sql); err != nil {
			return entryError(e, err, sql)
		}
	}
	if _, err := c.conn.PgConn().CopyFrom(ctx, reportRows(data, n.l.opts.Progress, e.Tag), stmt); err != nil {
		rollback(c)
		return entryError(e, err, stmt)
	}
	if err := n.mark(ctx, c.conn, e); err != nil {
		rollback(c)
		return err
	}
	if err := c.exec(ctx, "COMMIT"); err != nil {
		return entryError(e, err, "COMMIT")
	}
	return nil
}

func rollback(c *loadConn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = c.exec(ctx, "ROLLBACK")
}

// freezeCopy adds FREEZE to pg_dump's "COPY ... FROM stdin;".
func freezeCopy(stmt string) string {
	t := strings.TrimRight(stmt, " \t\r\n;")
	if !strings.HasSuffix(strings.ToLower(t), " from stdin") {
		return stmt
	}
	return t + " WITH (FREEZE);"
}

// loadBlobs writes the large objects' contents in one transaction, as
// pg_restore does; a rerun writes them again whole.
func (n *nativeLoad) loadBlobs(ctx context.Context, c *loadConn, e *pgdump.Entry) error {
	tx, err := c.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", e, err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	los := tx.LargeObjects()
	err = n.af.ReadBlobs(ctx, e, func(oid uint32, data io.Reader) error {
		lo, err := los.Open(ctx, oid, pgx.LargeObjectModeWrite)
		if err != nil {
			return err
		}
		if err := lo.Truncate(0); err != nil {
			return err
		}
		if _, err := io.Copy(lo, data); err != nil {
			return err
		}
		return lo.Close()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", e, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: %w", e, err)
	}
	return nil
}

// buildItems turns the parallel part of the plan into items with their
// dependencies, leaving out what an earlier run finished: tables recorded
// as loaded (or holding exactly the dump's rows) and post-data objects
// that exist.
func (n *nativeLoad) buildItems(ctx context.Context, parts sections) ([]*schedItem, error) {
	l := n.l
	a := n.af.Archive
	// tableData maps a TABLE's dump ID to its TABLE DATA's.
	tableData := map[int]int{}
	for i := range a.Entries {
		if e := &a.Entries[i]; e.Desc == "TABLE DATA" && len(e.Dependencies) > 0 {
			tableData[e.Dependencies[0]] = e.DumpID
		}
	}
	done := map[int]bool{}
	var kinds map[string]byte
	var counts map[tableRef]int64
	expected := map[string]int64{}
	for _, tb := range l.src.Tables {
		expected[tb.Name] = tb.Rows
	}
	var present map[string]bool
	var err error
	if parts.has(dataSection) {
		if done, err = n.loadedTables(ctx); err != nil {
			return nil, err
		}
		if kinds, err = n.relKinds(ctx); err != nil {
			return nil, err
		}
		if !n.fresh {
			var refs []tableRef
			for _, pe := range n.plan.rest {
				if pe.act == actTableData && !done[pe.e.DumpID] {
					refs = append(refs, tableRef{schema: pe.e.Namespace, name: pe.e.Tag})
				}
			}
			if counts, err = l.t.countRows(ctx, refs, l.opts.Jobs); err != nil {
				return nil, err
			}
		}
	}
	if parts.has(postDataSection) {
		if present, err = presentObjects(ctx, l.conn); err != nil {
			return nil, err
		}
	}
	var total int64
	for _, pe := range n.plan.rest {
		if pe.act == actTableData {
			total += n.dataSize[pe.e.DumpID]
		}
	}
	indexed := indexedTables(a, n.plan.rest, tableData)

	byID := map[int]*schedItem{}
	var items []*schedItem
	for _, pe := range n.plan.rest {
		e := pe.e
		isData := e.Section == pgdump.SectionData
		if (isData && !parts.has(dataSection)) || (!isData && !parts.has(postDataSection)) {
			continue
		}
		it := &schedItem{pe: pe}
		switch pe.act {
		case actTableData:
			if done[e.DumpID] {
				continue
			}
			if e.CopyStmt == "" {
				return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("%s has no COPY statement (a dump made with --inserts?): restore it with --loader pg_restore", e))
			}
			if !n.fresh {
				ref := tableRef{schema: e.Namespace, name: e.Tag}
				have := counts[ref]
				want, known := expected[e.Tag]
				switch {
				case known && e.Namespace == l.t.schema && have == want:
					if err := n.mark(ctx, l.conn, e); err != nil {
						return nil, err
					}
					continue
				case have > 0:
					l.t.log.Warn("table partly loaded: emptying it to load it again", "table", ref.String(), "rows", have, "expected", want)
					it.truncate = true
				}
			}
			it.size = n.dataSize[e.DumpID]
			it.split = l.opts.Jobs > 1 && it.size >= splitMinBytes && it.size*int64(l.opts.Jobs) >= total &&
				(splitIndexedTables || len(e.Dependencies) == 0 || !indexed[e.Dependencies[0]])
			it.freeze = !it.split && n.fresh && kinds[e.Namespace+"\x00"+e.Tag] == 'r'
		case actComment:
			if strings.HasPrefix(e.Tag, "EXTENSION ") {
				continue
			}
		case actSchema:
			continue // schemas are pre-data; one here was created there or exists
		}
		if kind := presenceKind(e.Desc); kind != "" && present[presenceKey(e.Namespace, kind, e.Tag)] {
			continue
		}
		if e.Section == pgdump.SectionPostData {
			for _, dep := range e.Dependencies {
				if td, ok := tableData[dep]; ok {
					dep = td
				}
				de, ok := a.Lookup(dep)
				if !ok {
					continue
				}
				var table int
				switch de.Desc {
				case "TABLE DATA":
					it.size = max(it.size, n.dataSize[dep])
					if len(de.Dependencies) > 0 {
						table = de.Dependencies[0]
					}
				case "TABLE":
					table = dep
				}
				if table != 0 {
					it.locks = append(it.locks, lockReq{table: table, exclusive: e.Desc != "INDEX"})
				}
			}
		}
		byID[e.DumpID] = it
		items = append(items, it)
	}
	for _, it := range items {
		e := it.pe.e
		for _, dep := range e.Dependencies {
			if e.Section == pgdump.SectionPostData {
				if td, ok := tableData[dep]; ok {
					dep = td
				}
			}
			if d, ok := byID[dep]; ok && d != it {
				d.dependents = append(d.dependents, it)
				it.waiting++
			}
		}
	}
	if parts.has(dataSection) && parts.has(postDataSection) {
		items = append(items, n.countItems(items)...)
	}
	return items, nil
}

// indexedTables are the TABLE dump IDs that post-data entries build an
// index on (CREATE INDEX, or a key's ADD CONSTRAINT).
func indexedTables(a *pgdump.Archive, rest []planEntry, tableData map[int]int) map[int]bool {
	indexed := map[int]bool{}
	for _, pe := range rest {
		if pe.e.Section != pgdump.SectionPostData || !buildsIndex(pe.e) {
			continue
		}
		for _, dep := range pe.e.Dependencies {
			if td, ok := tableData[dep]; ok {
				dep = td
			}
			switch de, ok := a.Lookup(dep); {
			case !ok:
			case de.Desc == "TABLE DATA" && len(de.Dependencies) > 0:
				indexed[de.Dependencies[0]] = true
			case de.Desc == "TABLE":
				indexed[dep] = true
			}
		}
	}
	return indexed
}

// countItems adds, for every table of the target schema that this
// schedule loads with its indexes, the count of its rows for the
// verification: it runs once the table's data and the post-data entries
// on it alone (indexes, keys) are done, while other tables still load, on
// whichever connection has nothing bigger to do. A table loaded without
// them (a run stopped before post-data, a resumed run's post-data) is
// counted by Inventory at the end.
func (n *nativeLoad) countItems(items []*schedItem) []*schedItem {
	var counts []*schedItem
	byTable := map[int]*schedItem{}
	for _, it := range items {
		e := it.pe.e
		if it.pe.act != actTableData || e.Namespace != n.l.t.schema || len(e.Dependencies) == 0 {
			continue
		}
		table := e.Dependencies[0]
		c := &schedItem{pe: planEntry{e: e, act: actCount}, locks: []lockReq{{table: table}}, waiting: 1}
		it.dependents = append(it.dependents, c)
		byTable[table] = c
		counts = append(counts, c)
	}
	for _, it := range items {
		if len(it.locks) != 1 || it.pe.e.Section != pgdump.SectionPostData {
			continue
		}
		if c, ok := byTable[it.locks[0].table]; ok {
			it.dependents = append(it.dependents, c)
			c.waiting++
		}
	}
	return counts
}
