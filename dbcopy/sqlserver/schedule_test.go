package sqlserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// schedPlan is a small load: a is large and copied in two streams, a and
// b reference themselves or each other, d has no keys of its own but a
// foreign key to c.
var schedPlan = struct {
	copies []tableCopy
	keys   []step
}{
	copies: []tableCopy{{table: "a", streams: 2}, {table: "b", streams: 1}, {table: "c", streams: 1}, {table: "d", streams: 1}},
	keys: []step{
		{Kind: "primary key", Table: "a", Name: "pk_a"},
		{Kind: "primary key", Table: "b", Name: "pk_b"},
		{Kind: "primary key", Table: "c", Name: "pk_c"},
		{Kind: "unique", Table: "b", Name: "uq_b"},
		{Kind: "index", Table: "a", Name: "idx_a"},
		{Kind: "index", Table: "b", Name: "idx_b"},
		{Kind: "foreign key", Table: "a", Name: "fk_a_a", RefTable: "a"},
		{Kind: "foreign key", Table: "b", Name: "fk_b_a", RefTable: "a"},
		{Kind: "foreign key", Table: "c", Name: "fk_c_b", RefTable: "b"},
		{Kind: "foreign key", Table: "d", Name: "fk_d_c", RefTable: "c"},
	},
}

// schedRecorder runs a load's tasks as fakes and checks, as they start,
// the rules the schedule must keep.
type schedRecorder struct {
	t    *testing.T
	jobs int

	mu       sync.Mutex
	events   []string        // "copy a", "pk_a", ... in the order they started
	finished map[string]bool // copies and steps done
	inFlight int             // slots taken by running fakes
	maxSeen  int
	altering map[string]string // table -> the fake altering it
	fail     map[string]error  // step name -> the error it returns
}

func newSchedRecorder(t *testing.T, jobs int) *schedRecorder {
	return &schedRecorder{t: t, jobs: jobs, finished: map[string]bool{}, altering: map[string]string{}, fail: map[string]error{}}
}

// begin notes a fake's start, taking slots and tables, after checking
// that what it needs is done.
func (r *schedRecorder) begin(name string, slots int, tables []string, needs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, name)
	for _, n := range needs {
		if !r.finished[n] {
			r.t.Errorf("%s started before %s was done", name, n)
		}
	}
	r.inFlight += slots
	r.maxSeen = max(r.maxSeen, r.inFlight)
	if r.inFlight > r.jobs {
		r.t.Errorf("%s started with %d slots taken, over the %d jobs", name, r.inFlight, r.jobs)
	}
	for _, table := range tables {
		if other := r.altering[table]; other != "" {
			r.t.Errorf("%s started on table %s while %s alters it", name, table, other)
		}
		r.altering[table] = name
	}
}

func (r *schedRecorder) end(name string, slots int, tables []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight -= slots
	for _, table := range tables {
		delete(r.altering, table)
	}
	r.finished[name] = true
}

// keysOf lists the names of the keys and indexes of table.
func keysOf(table string) []string {
	var names []string
	for _, s := range schedPlan.keys {
		if s.Table == table && s.Kind != "foreign key" {
			names = append(names, s.Name)
		}
	}
	return names
}

// tasks makes the load's tasks with fake copies and steps. A step holds
// its table's slot; the first copy of a keeps its streams busy until
// blockA is closed, when blockA is not nil.
func (r *schedRecorder) tasks(phase *keyPhase, blockA chan struct{}) []*loadTask {
	copies := slices.Clone(schedPlan.copies)
	for i := range copies {
		copies[i].streams = min(copies[i].streams, r.jobs) // as streamsFor gives
		c := copies[i]
		copies[i].run = func(ctx context.Context) error {
			name := "copy " + c.table
			r.begin(name, c.streams, []string{c.table}, nil)
			defer r.end(name, c.streams, []string{c.table})
			if c.table == "a" && blockA != nil {
				select {
				case <-blockA:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			runtime.Gosched()
			return nil
		}
	}
	build := func(ctx context.Context, s step) error {
		tables := []string{s.Table}
		needs := []string{}
		if s.Kind == "foreign key" {
			if s.RefTable != s.Table {
				tables = append(tables, s.RefTable)
			}
			for _, table := range tables {
				needs = append(needs, "copy "+table)
				needs = append(needs, keysOf(table)...)
			}
		} else {
			needs = append(needs, "copy "+s.Table)
			// The keys of a table come in the plan's order.
			for _, k := range keysOf(s.Table) {
				if k == s.Name {
					break
				}
				needs = append(needs, k)
			}
		}
		r.begin(s.Name, 1, tables, needs)
		defer r.end(s.Name, 1, tables)
		runtime.Gosched()
		if err := r.fail[s.Name]; err != nil {
			return err
		}
		return ctx.Err()
	}
	return loadTasks(copies, schedPlan.keys, build, phase)
}

// phaseRecorder is a dbcopy.Progress that keeps what it is told.
type phaseRecorder struct {
	mu     sync.Mutex
	phases []string // "name total"
	added  map[string]int64
	phase  string
}

func (p *phaseRecorder) Phase(name string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phases = append(p.phases, fmt.Sprintf("%s %d", name, total))
	p.phase = name
}

func (p *phaseRecorder) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.added == nil {
		p.added = map[string]int64{}
	}
	p.added[p.phase] += n
}

func TestLoadTasksKeepTheirOrderAndTheJobs(t *testing.T) {
	for _, jobs := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprintf("jobs=%d", jobs), func(t *testing.T) {
			r := newSchedRecorder(t, jobs)
			progress := &phaseRecorder{}
			phase := newKeyPhase(progress, slog.New(slog.DiscardHandler), len(schedPlan.copies), len(schedPlan.keys))
			if err := runTasks(context.Background(), jobs, r.tasks(phase, nil)); err != nil {
				t.Fatalf("runTasks: %v", err)
			}
			want := len(schedPlan.copies) + len(schedPlan.keys)
			if len(r.events) != want || len(r.finished) != want {
				t.Errorf("%d started and %d finished, want %d each: %q", len(r.events), len(r.finished), want, r.events)
			}
			// The keys phase starts once, after every copy, with the
			// keys still to build; each one built after counts in it.
			if len(progress.phases) != 1 || !strings.HasPrefix(progress.phases[0], "keys ") {
				t.Fatalf("phases %q, want one keys phase", progress.phases)
			}
			var left int64
			fmt.Sscanf(progress.phases[0], "keys %d", &left)
			if progress.added["keys"] != left {
				t.Errorf("the keys phase counted %d keys, its total is %d", progress.added["keys"], left)
			}
			if jobs == 1 {
				// One at a time: a table's keys right after its copy,
				// ahead of the next copy; a foreign key as soon as both
				// its tables have their keys.
				wantOrder := []string{"copy a", "pk_a", "idx_a", "fk_a_a", "copy b", "pk_b", "uq_b", "idx_b", "fk_b_a",
					"copy c", "pk_c", "fk_c_b", "copy d", "fk_d_c"}
				if !slices.Equal(r.events, wantOrder) {
					t.Errorf("order %q\nwant %q", r.events, wantOrder)
				}
				if left != 1 {
					t.Errorf("keys phase total %d, want 1 (only fk_d_c waits for the last copy)", left)
				}
			}
		})
	}
}

func TestLoadTasksFailureStopsTheRest(t *testing.T) {
	boom := errors.New("duplicate key")
	tests := []struct {
		name       string
		jobs       int
		blockA     bool // the copy of a runs until cancelled
		failing    string
		wantErr    string
		notStarted []string
	}{
		{name: "one job", jobs: 1, failing: "uq_b", wantErr: "create unique [uq_b] on table [b]: duplicate key",
			notStarted: []string{"idx_b", "fk_b_a", "copy c", "pk_c", "fk_c_b", "copy d", "fk_d_c"}},
		{name: "a copy running beside is cancelled", jobs: 3, blockA: true, failing: "pk_c", wantErr: "create primary key [pk_c] on table [c]: duplicate key",
			notStarted: []string{"pk_a", "idx_a", "fk_a_a", "fk_b_a", "fk_c_b", "fk_d_c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSchedRecorder(t, tt.jobs)
			r.fail[tt.failing] = boom
			var blockA chan struct{}
			if tt.blockA {
				blockA = make(chan struct{}) // never closed: only cancelling ends it
			}
			progress := &phaseRecorder{}
			phase := newKeyPhase(progress, slog.New(slog.DiscardHandler), len(schedPlan.copies), len(schedPlan.keys))
			err := runTasks(context.Background(), tt.jobs, r.tasks(phase, blockA))
			if err == nil || err.Error() != tt.wantErr || !errors.Is(err, boom) {
				t.Fatalf("runTasks: %v, want %q", err, tt.wantErr)
			}
			for _, name := range tt.notStarted {
				if slices.Contains(r.events, name) {
					t.Errorf("%s started after %s failed: %q", name, tt.failing, r.events)
				}
			}
			if r.inFlight != 0 {
				t.Errorf("runTasks returned with %d slots still taken", r.inFlight)
			}
			if len(progress.phases) != 0 {
				t.Errorf("phases %q: the keys phase must not start when a copy did not finish", progress.phases)
			}
		})
	}
}

func TestRunTasksCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	first := &loadTask{name: "first", run: func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	second := &loadTask{name: "second", after: []*loadTask{first}, run: func(context.Context) error {
		t.Error("second ran after the load was cancelled")
		return nil
	}}
	go func() {
		<-started
		cancel()
	}()
	if err := runTasks(ctx, 2, []*loadTask{first, second}); !errors.Is(err, context.Canceled) {
		t.Errorf("runTasks: %v, want context.Canceled", err)
	}
}

func TestRunTasksCycleIsAnError(t *testing.T) {
	a := &loadTask{name: "a", run: func(context.Context) error { return nil }}
	b := &loadTask{name: "b", after: []*loadTask{a}, run: func(context.Context) error { return nil }}
	a.after = []*loadTask{b}
	err := runTasks(context.Background(), 2, []*loadTask{a, b})
	if err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("runTasks: %v, want an error naming a and b", err)
	}
}

func TestKeyPhaseWithoutCopiesStartsAtOnce(t *testing.T) {
	progress := &phaseRecorder{}
	phase := newKeyPhase(progress, slog.New(slog.DiscardHandler), 0, 3)
	phase.built(time.Second)
	if !slices.Equal(progress.phases, []string{"keys 3"}) || progress.added["keys"] != 1 {
		t.Errorf("phases %q, added %v; want the keys phase of 3 with 1 added", progress.phases, progress.added)
	}
}

func TestKeyPhaseLogsBuildTimeSummed(t *testing.T) {
	var out strings.Builder
	phase := newKeyPhase(&phaseRecorder{}, slog.New(slog.NewJSONHandler(&out, nil)), 1, 2)
	phase.built(1500 * time.Millisecond)
	phase.copied()
	phase.built(750 * time.Millisecond)
	phase.finished()
	var line struct {
		Msg     string  `json:"msg"`
		Keys    int     `json:"keys"`
		Seconds float64 `json:"seconds"`
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
		t.Fatalf("last log line %q: %v", lines[len(lines)-1], err)
	}
	if line.Msg != "built keys and indexes" || line.Keys != 2 || line.Seconds != 2.25 {
		t.Errorf("last log line %+v, want built keys and indexes, 2 keys, 2.25 seconds", line)
	}
}
