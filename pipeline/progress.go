package pipeline

import (
	"sync"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/ui"
)

// dbProgress lets a database target report its phases to the operator's
// progress display: each phase becomes a task of its own. A target that
// reports rows per table (dbcopy.TableProgress) gets a task counting rows,
// with the bytes, the table and a rate beside them.
type dbProgress struct {
	p         *ui.Progress
	mu        sync.Mutex
	task      *ui.Task
	phase     string
	rowsTotal int64 // the dump's rows, once counted; 0 if not yet known
	rowTask   *ui.Task
}

func newDBProgress(p *ui.Progress) *dbProgress {
	if p == nil {
		return nil
	}
	return &dbProgress{p: p}
}

// asOption returns the value for dbcopy.Options.Progress: a nil interface,
// not a nil pointer, when there is no display.
func (d *dbProgress) asOption() dbcopy.Progress {
	if d == nil {
		return nil
	}
	return d
}

// setRows gives the row task its total once the dump's rows are counted.
func (d *dbProgress) setRows(total int64) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rowsTotal = total
	d.rowTask.SetTotal(total)
}

func (d *dbProgress) Phase(name string, total int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.endPhase()
	d.phase = name
	d.task = d.p.StartCount("database: "+name, total, "items")
}

func (d *dbProgress) Add(n int64) {
	d.mu.Lock()
	t := d.task
	d.mu.Unlock()
	t.Add(n)
}

// TableRows implements dbcopy.TableProgress: from the first call on, the
// phase's bar counts rows.
func (d *dbProgress) TableRows(table string, rows, bytes int64) {
	d.mu.Lock()
	if d.rowTask == nil {
		d.rowTask = d.p.StartCount("database: "+d.phase, d.rowsTotal, "rows")
		// The row task replaces the phase's own count on the display.
		d.task.Drop()
		d.task = nil
	}
	t := d.rowTask
	d.mu.Unlock()
	t.SetDetail(table)
	t.Add(rows)
	t.AddBytes(bytes)
}

func (d *dbProgress) endPhase() {
	d.task.Done()
	d.rowTask.Done()
	d.task, d.rowTask = nil, nil
}

// finish ends the last phase.
func (d *dbProgress) finish() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.endPhase()
}
