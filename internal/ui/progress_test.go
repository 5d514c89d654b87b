package ui

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestProgressLogsWhenNotOnATerminal(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	// A long interval: the test calls logLines itself instead of waiting.
	p := NewProgress(log, nil, time.Hour)
	defer p.Close()

	files := p.StartBytes("files", 4<<20)
	rows := p.StartCount("database: data", 10, "")
	files.Add(1 << 20)
	rows.Add(4)
	p.logLines()
	rows.Done()
	rows.Done() // a second Done must not log twice

	out := logs.String()
	for _, want := range []string{
		`msg=progress task=files done="1.0 MiB"`, `total="4.0 MiB" percent=25.0`,
		`msg=progress task="database: data" done=4`, `total=10 percent=40.0`,
		`msg="finished database: data" done=4`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "finished database: data"); n != 1 {
		t.Errorf("Done logged %d times", n)
	}
}

func TestProgressBarOnATerminal(t *testing.T) {
	var term, logs bytes.Buffer
	p := NewProgress(slog.New(slog.NewTextHandler(&logs, nil)), &term, 0)
	files := p.StartCount("files", 100, "")
	db := p.StartCount("database", 10, "")
	files.Add(50)
	db.Add(5)
	p.render()
	p.Close()
	// The newest task gets the bar; the others are summed up beside it.
	if out := term.String(); !strings.Contains(out, "database (files 50%)") {
		t.Fatalf("terminal shows %q", out)
	}
}

func TestNilTaskIsSafe(t *testing.T) {
	var task *Task
	task.Add(1)
	task.SetTotal(2)
	task.Done()
}
