package sqlserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// loadTask is one piece of a load's work once its tables exist: a
// table's copy, the keys and indexes of one table, or a foreign key.
type loadTask struct {
	// name says what the task does, for errors about the schedule.
	name string
	// slots is how many of the load's jobs the task takes while it runs:
	// one per statement it keeps running on the server (a table copied in
	// stripes takes one per stream).
	slots int
	// tables are the tables the task alters. No two running tasks share
	// one: ALTER TABLE and CREATE INDEX lock the table against each other
	// anyway, and two foreign keys between the same tables could deadlock.
	tables []string
	// after are the tasks that must be done before this one starts.
	after []*loadTask
	// rank orders the tasks ready to start: lower first, then in the
	// order they became ready.
	rank int
	run  func(ctx context.Context) error

	// The scheduler's bookkeeping.
	waiting    int
	dependents []*loadTask
	readyAt    int
}

// Ranks of loadTask: the keys of a copied table go before the next copy,
// so that a table is finished soon after its data is in (its pages are
// still in the server's cache) and the load does not end on key builds
// for big tables.
const (
	rankKeys = iota
	rankCopy
)

type taskResult struct {
	task *loadTask
	err  error
}

// runTasks runs tasks, each once the tasks it comes after are done, with
// at most jobs slots taken at a time. The first failure cancels the
// others' context and starts nothing more; runTasks returns it once the
// running tasks have returned.
func runTasks(ctx context.Context, jobs int, tasks []*loadTask) error {
	jobs = max(jobs, 1)
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var ready []*loadTask
	becameReady := 0
	markReady := func(t *loadTask) {
		t.readyAt = becameReady
		becameReady++
		ready = append(ready, t)
	}
	for _, t := range tasks {
		t.waiting, t.dependents = len(t.after), nil
	}
	for _, t := range tasks {
		for _, a := range t.after {
			a.dependents = append(a.dependents, t)
		}
	}
	for _, t := range tasks {
		if t.waiting == 0 {
			markReady(t)
		}
	}

	free := jobs
	busy := map[string]bool{} // tables a running task alters
	running, left := 0, len(tasks)
	done := make(chan taskResult)
	var firstErr error

	// next takes the ready task to start now, nil if none may. A task
	// whose tables are busy is passed over; one that needs more slots
	// than are free is waited for, so that it cannot be passed over for
	// good by smaller ones.
	next := func() *loadTask {
		best := -1
		for i, t := range ready {
			if tablesBusy(busy, t.tables) {
				continue
			}
			if best < 0 || t.rank < ready[best].rank || (t.rank == ready[best].rank && t.readyAt < ready[best].readyAt) {
				best = i
			}
		}
		if best < 0 || taskSlots(ready[best], jobs) > free {
			return nil
		}
		t := ready[best]
		ready = append(ready[:best], ready[best+1:]...)
		return t
	}

	for left > 0 {
		for firstErr == nil && ctx.Err() == nil {
			t := next()
			if t == nil {
				break
			}
			free -= taskSlots(t, jobs)
			for _, table := range t.tables {
				busy[table] = true
			}
			running++
			go func() { done <- taskResult{t, t.run(ctx)} }()
		}
		if running == 0 {
			if firstErr != nil || ctx.Err() != nil {
				break
			}
			// Only a cycle among the tasks leaves them all waiting.
			var waiting []string
			for _, t := range tasks {
				if t.waiting > 0 {
					waiting = append(waiting, t.name)
				}
			}
			return fmt.Errorf("the load's steps wait for each other and cannot start: %s", strings.Join(waiting, ", "))
		}
		r := <-done
		running--
		left--
		free += taskSlots(r.task, jobs)
		for _, table := range r.task.tables {
			delete(busy, table)
		}
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
				cancel()
			}
			continue
		}
		for _, d := range r.task.dependents {
			if d.waiting--; d.waiting == 0 {
				markReady(d)
			}
		}
	}
	if err := parent.Err(); err != nil {
		// A task stopped by the cancellation may say so in words of its
		// own: the caller is to see that the load was cancelled.
		if firstErr != nil && !errors.Is(firstErr, err) {
			return fmt.Errorf("%w (%v)", err, firstErr)
		}
		return err
	}
	return firstErr
}

// taskSlots is how many slots t takes: at least one, at most all.
func taskSlots(t *loadTask, jobs int) int {
	return min(max(t.slots, 1), jobs)
}

func tablesBusy(busy map[string]bool, tables []string) bool {
	for _, t := range tables {
		if busy[t] {
			return true
		}
	}
	return false
}

// tableCopy is the copy of one table's data.
type tableCopy struct {
	table   string
	streams int // bulk-copy streams, each a statement on the server
	run     func(ctx context.Context) error
}

// loadTasks makes the tasks of a load: the copies, in the order given;
// each table's keys and indexes in the order of keys (its primary key
// first), one after another once its copy is done; each foreign key once
// the keys of its table and of the table it references are built. build
// creates one key; phase hears of each copy and key done.
func loadTasks(copies []tableCopy, keys []step, build func(context.Context, step) error, phase *keyPhase) []*loadTask {
	var tasks []*loadTask
	last := map[string]*loadTask{} // the task that completes a table so far
	for _, c := range copies {
		task := &loadTask{name: "copy of table " + quoteIdent(c.table), slots: c.streams, tables: []string{c.table}, rank: rankCopy,
			run: func(ctx context.Context) error {
				if err := c.run(ctx); err != nil {
					return err
				}
				phase.copied()
				return nil
			}}
		tasks = append(tasks, task)
		last[c.table] = task
	}
	runSteps := func(steps []step) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			for _, s := range steps {
				started := time.Now()
				if err := build(ctx, s); err != nil {
					return stepError(s, err)
				}
				phase.built(time.Since(started))
			}
			return nil
		}
	}
	tableKeys := map[string][]step{}
	var tables []string
	var foreignKeys []step
	for _, s := range keys {
		if s.Kind == "foreign key" {
			foreignKeys = append(foreignKeys, s)
			continue
		}
		if tableKeys[s.Table] == nil {
			tables = append(tables, s.Table)
		}
		tableKeys[s.Table] = append(tableKeys[s.Table], s)
	}
	for _, table := range tables {
		task := &loadTask{name: "keys of table " + quoteIdent(table), slots: 1, tables: []string{table}, rank: rankKeys,
			run: runSteps(tableKeys[table])}
		if before := last[table]; before != nil {
			task.after = []*loadTask{before}
		}
		tasks = append(tasks, task)
		last[table] = task
	}
	for _, s := range foreignKeys {
		task := &loadTask{name: "foreign key " + quoteIdent(s.Name), slots: 1, tables: []string{s.Table}, rank: rankKeys,
			run: runSteps([]step{s})}
		if s.RefTable != s.Table {
			task.tables = append(task.tables, s.RefTable)
		}
		for _, table := range task.tables {
			if before := last[table]; before != nil {
				task.after = append(task.after, before)
			}
		}
		tasks = append(tasks, task)
	}
	return tasks
}

// keyPhase reports the keys built to a dbcopy.Progress. They are built
// during the data phase too, whose display counts rows: a key built then
// is only counted, and the keys phase starts when the last table is
// copied, its total the keys still to build; the log says how many were
// built during the copy and, at the end, how long the builds took in all.
type keyPhase struct {
	progress dbcopy.Progress
	log      *slog.Logger

	mu         sync.Mutex
	copiesLeft int
	total      int
	left       int
	started    bool
	building   time.Duration // summed over the connections that built
}

// newKeyPhase expects copies copies and total keys; with no copy to
// wait for, the keys phase starts at once.
func newKeyPhase(progress dbcopy.Progress, log *slog.Logger, copies, total int) *keyPhase {
	k := &keyPhase{progress: progress, log: log, copiesLeft: copies, total: total, left: total}
	if copies == 0 {
		k.start()
	}
	return k
}

func (k *keyPhase) copied() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.copiesLeft--; k.copiesLeft == 0 {
		k.start()
	}
}

// start begins the keys phase; with k.mu held, or before k is shared.
func (k *keyPhase) start() {
	k.started = true
	k.log.Info("every table is copied", "keys built", k.total-k.left, "keys left", k.left)
	k.progress.Phase("keys", int64(k.left))
}

func (k *keyPhase) built(took time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.building += took
	k.left--
	if k.started {
		k.progress.Add(1)
	}
}

// finished logs the keys' build time summed over connections: with keys
// built beside the copies, the time from the last copy to the end of the
// load says little of what the keys cost.
func (k *keyPhase) finished() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.log.Info("built keys and indexes", "keys", k.total-k.left, "seconds", k.building.Round(time.Millisecond).Seconds())
}
