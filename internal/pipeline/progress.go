package pipeline

import (
	"sync"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/ui"
)

// dbProgress lets a database target report its phases to the operator's
// progress display: each phase becomes a task of its own.
type dbProgress struct {
	p    *ui.Progress
	mu   sync.Mutex
	task *ui.Task
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

func (d *dbProgress) Phase(name string, total int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.task.Done()
	d.task = d.p.Start("database: "+name, total, false)
}

func (d *dbProgress) Add(n int64) {
	d.mu.Lock()
	t := d.task
	d.mu.Unlock()
	t.Add(n)
}

// finish ends the last phase.
func (d *dbProgress) finish() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.task.Done()
	d.task = nil
}
