package ui

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mxmigrate/mxmigrate/internal/units"
)

// Progress shows how far the running tasks have come: one progress bar on a
// terminal (the newest unfinished task, with the others summed up in its
// description), and plain log lines every LogEvery elsewhere, so a
// Kubernetes Job's log shows steady, greppable progress.
type Progress struct {
	log      *slog.Logger
	out      io.Writer // the terminal; nil when not on one
	logEvery time.Duration

	mu      sync.Mutex
	tasks   []*Task
	bar     *progressbar.ProgressBar
	barTask *Task
	stop    chan struct{}
	stopped chan struct{}
}

// Task is one tracked unit of work. Add is safe for concurrent use.
type Task struct {
	Name    string
	total   atomic.Int64
	done    atomic.Int64
	bytes   bool   // done and total count bytes
	unit    string // what done and total count otherwise ("items", "rows")
	started time.Time
	ended   atomic.Bool
	p       *Progress

	sideBytes atomic.Int64 // bytes moved beside a count of rows
	detail    atomic.Pointer[string]
}

// NewProgress starts the renderer. terminal is where the bar goes, or nil to
// log instead. Call Close when the run ends. On a terminal, give the
// logger LogWriter(terminal) so that log lines never share the bar's line.
func NewProgress(log *slog.Logger, terminal io.Writer, logEvery time.Duration) *Progress {
	if logEvery <= 0 {
		logEvery = 10 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Progress{log: log, out: terminal, logEvery: logEvery, stop: make(chan struct{}), stopped: make(chan struct{})}
	go p.loop()
	return p
}

// SetLogger replaces the logger the progress display writes to; call it
// before starting tasks (the logger is usually made with LogWriter).
func (p *Progress) SetLogger(log *slog.Logger) { p.log = log }

// LogWriter returns a writer for log lines that share the terminal with
// the bar: each write first clears the bar's line, so a log line always
// starts a line of its own above the bar, which the next tick redraws.
// Each write must be whole lines, as slog's handlers write them.
func (p *Progress) LogWriter(w io.Writer) io.Writer { return &aboveBar{p: p, w: w} }

type aboveBar struct {
	p *Progress
	w io.Writer
}

func (a *aboveBar) Write(b []byte) (int, error) {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	if a.p.bar != nil {
		_ = a.p.bar.Clear()
	}
	return a.w.Write(b)
}

// StartBytes tracks a new task of total bytes (0 when unknown).
func (p *Progress) StartBytes(name string, total int64) *Task {
	return p.start(&Task{Name: name, bytes: true}, total)
}

// StartCount tracks a new task of total units, such as "rows" or "items"
// (0 when unknown).
func (p *Progress) StartCount(name string, total int64, unit string) *Task {
	return p.start(&Task{Name: name, unit: unit}, total)
}

func (p *Progress) start(t *Task, total int64) *Task {
	t.started, t.p = time.Now(), p
	t.total.Store(total)
	p.mu.Lock()
	p.tasks = append(p.tasks, t)
	p.mu.Unlock()
	return t
}

// Add reports n more units done.
func (t *Task) Add(n int64) {
	if t != nil {
		t.done.Add(n)
	}
}

// AddBytes reports n more bytes moved by a task that counts something
// else (rows), for its rate.
func (t *Task) AddBytes(n int64) {
	if t != nil {
		t.sideBytes.Add(n)
	}
}

// SetDetail shows what the task works on now, such as a table's name.
func (t *Task) SetDetail(detail string) {
	if t != nil {
		t.detail.Store(&detail)
	}
}

// SetTotal changes the task's total, for work whose size is learned late.
func (t *Task) SetTotal(total int64) {
	if t != nil {
		t.total.Store(total)
	}
}

// Drop ends a task that another replaces, without a line about it.
func (t *Task) Drop() {
	if t == nil || t.ended.Swap(true) {
		return
	}
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	if t.p.barTask == t && t.p.bar != nil {
		_ = t.p.bar.Clear()
		t.p.bar, t.p.barTask = nil, nil
	}
}

// Done marks the task finished and logs one line about it.
func (t *Task) Done() {
	if t == nil || t.ended.Swap(true) {
		return
	}
	elapsed := time.Since(t.started)
	t.p.mu.Lock()
	if t.p.barTask == t && t.p.bar != nil {
		_ = t.p.bar.Finish()
		fmt.Fprintln(t.p.out)
		t.p.bar, t.p.barTask = nil, nil
	}
	t.p.mu.Unlock()
	attrs := []any{"done", t.amount(t.done.Load()), "elapsed", elapsed.Round(time.Millisecond).String(), "rate", t.rate(elapsed)}
	if side := t.sideBytes.Load(); side > 0 {
		attrs = append(attrs, "bytes", units.Bytes(side), "byteRate", bytesRate(side, elapsed))
	}
	t.p.log.Info("finished "+t.Name, attrs...)
}

func (t *Task) amount(n int64) string {
	if t.bytes {
		return units.Bytes(n)
	}
	if t.unit == "" {
		return fmt.Sprint(n)
	}
	return fmt.Sprint(n, " ", t.unit)
}

func (t *Task) rate(elapsed time.Duration) string {
	secs := elapsed.Seconds()
	if secs <= 0 {
		return "-"
	}
	if t.bytes {
		return bytesRate(t.done.Load(), elapsed)
	}
	per := float64(t.done.Load()) / secs
	if t.unit == "" {
		return fmt.Sprintf("%.0f/s", per)
	}
	return fmt.Sprintf("%.0f %s/s", per, t.unit)
}

func bytesRate(n int64, elapsed time.Duration) string {
	if elapsed <= 0 {
		return "-"
	}
	return units.Bytes(int64(float64(n)/elapsed.Seconds())) + "/s"
}

// describe is the bar's text for a task: its name, what it works on, and
// the bytes beside its count.
func (t *Task) describe() string {
	desc := t.Name
	if d := t.detail.Load(); d != nil && *d != "" {
		desc += " " + *d
	}
	if side := t.sideBytes.Load(); side > 0 {
		desc += fmt.Sprintf(" %s, %s", units.Bytes(side), bytesRate(side, time.Since(t.started)))
	}
	return desc
}

// Close stops the renderer.
func (p *Progress) Close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	<-p.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Exit()
		fmt.Fprintln(p.out)
	}
}

func (p *Progress) loop() {
	defer close(p.stopped)
	tick := p.logEvery
	if p.out != nil {
		tick = 150 * time.Millisecond
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-ticker.C:
			if p.out != nil {
				p.render()
			} else {
				p.logLines()
			}
		}
	}
}

func (p *Progress) active() []*Task {
	var out []*Task
	for _, t := range p.tasks {
		if !t.ended.Load() {
			out = append(out, t)
		}
	}
	return out
}

func (p *Progress) logLines() {
	p.mu.Lock()
	active := p.active()
	p.mu.Unlock()
	for _, t := range active {
		done, total := t.done.Load(), t.total.Load()
		attrs := []any{"task", t.Name, "done", t.amount(done), "rate", t.rate(time.Since(t.started))}
		if total > 0 {
			attrs = append(attrs, "total", t.amount(total), "percent", fmt.Sprintf("%.1f", 100*float64(done)/float64(total)))
		}
		p.log.Info("progress", attrs...)
	}
}

func (p *Progress) render() {
	p.mu.Lock()
	defer p.mu.Unlock()
	active := p.active()
	if len(active) == 0 {
		return
	}
	main := active[len(active)-1]
	if p.barTask != main {
		if p.bar != nil {
			_ = p.bar.Exit()
			fmt.Fprintln(p.out)
		}
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription(main.Name),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100 * time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
		}
		if main.bytes {
			opts = append(opts, progressbar.OptionShowBytes(true))
		} else {
			opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(cmp.Or(main.unit, "it")))
		}
		total := main.total.Load()
		if total <= 0 {
			total = -1 // a spinner
		}
		p.bar = progressbar.NewOptions64(total, opts...)
		p.barTask = main
	}
	if total := main.total.Load(); total > 0 && p.bar.GetMax64() != total {
		p.bar.ChangeMax64(total)
	}
	var others []string
	for _, t := range active[:len(active)-1] {
		if total := t.total.Load(); total > 0 {
			others = append(others, fmt.Sprintf("%s %.0f%%", t.Name, 100*float64(t.done.Load())/float64(total)))
		} else {
			others = append(others, fmt.Sprintf("%s %s", t.Name, t.amount(t.done.Load())))
		}
	}
	desc := main.describe()
	if len(others) > 0 {
		desc += " (" + strings.Join(others, ", ") + ")"
	}
	p.bar.Describe(desc)
	_ = p.bar.Set64(main.done.Load())
}
