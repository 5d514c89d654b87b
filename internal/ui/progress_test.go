package ui

import (
	"bytes"
	"errors"
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

// screen replays what was written to a terminal: a carriage return moves
// back to the start of the line, later text overwrites earlier text.
func screen(out string) []string {
	var lines []string
	for _, raw := range strings.Split(out, "\n") {
		var line []rune
		col := 0
		for _, r := range raw {
			if r == '\r' {
				col = 0
				continue
			}
			if col < len(line) {
				line[col] = r
			} else {
				line = append(line, r)
			}
			col++
		}
		if s := strings.TrimRight(string(line), " "); s != "" {
			lines = append(lines, s)
		}
	}
	return lines
}

func TestLogLinesNeverShareTheBarsLine(t *testing.T) {
	var term bytes.Buffer
	p := NewProgress(nil, &term, 0)
	log := slog.New(slog.NewTextHandler(p.LogWriter(&term), nil))
	p.SetLogger(log)

	files := p.StartBytes("files", 100<<20)
	files.Add(36 << 20)
	p.render()
	log.Info("blob sync finished", "uploaded", 24)
	files.Add(10 << 20)
	p.render()
	rows := p.StartCount("database: data", 1000, "rows")
	rows.SetDetail(`"system$user"`)
	rows.Add(400)
	rows.AddBytes(3 << 20)
	time.Sleep(120 * time.Millisecond) // past the bar's throttle
	p.render()
	log.Warn("slow table", "table", "system$user")
	rows.Done()
	files.Done()
	p.Close()

	lines := screen(term.String())
	var sawLog, sawRows bool
	for _, l := range lines {
		isLog := strings.Contains(l, "level=")
		isBar := strings.Contains(l, "%") && strings.Contains(l, "|")
		if isLog && isBar {
			t.Errorf("a log line shares the bar's line: %q", l)
		}
		sawLog = sawLog || strings.Contains(l, "blob sync finished")
		if strings.Contains(l, `database: data "system$user" 3.0 MiB`) && strings.Contains(l, "rows") {
			sawRows = true
		}
	}
	if !sawLog || !sawRows {
		t.Errorf("screen lacks the log line (%v) or the rows bar with table and bytes (%v):\n%s", sawLog, sawRows, strings.Join(lines, "\n"))
	}
}

func TestLoggerRedactsCredentials(t *testing.T) {
	var out bytes.Buffer
	log, err := NewLogger(&out, "text", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("connect to postgres://app:hunter22@db/app", "target", "sqlserver://sa:Pa55word@sql?database=x",
		"err", errors.New("open https://a.blob.core.windows.net/c?sv=1&sig=s3cr3t: 403"))
	if s := out.String(); strings.Contains(s, "hunter22") || strings.Contains(s, "Pa55word") || strings.Contains(s, "s3cr3t") ||
		!strings.Contains(s, "postgres://app:REDACTED@db/app") || !strings.Contains(s, "sig=REDACTED") {
		t.Fatalf("log line: %s", s)
	}
}
