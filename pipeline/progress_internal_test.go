package pipeline

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/ui"
)

// TestDatabaseProgressCountsRows: a target that reports rows per table
// (dbcopy.TableProgress) gets a rows bar with the dump's total; one that
// only counts items keeps the items bar.
func TestDatabaseProgressCountsRows(t *testing.T) {
	var logs bytes.Buffer
	p := ui.NewProgress(slog.New(slog.NewTextHandler(&logs, nil)), nil, time.Hour)
	defer p.Close()
	d := newDBProgress(p)
	var opt dbcopy.Progress = d.asOption()

	opt.Phase("pre-data", 3)
	opt.Add(3)
	opt.Phase("data", 2)
	d.setRows(1000)
	dbcopy.ReportRows(opt, "system$user", 400, 4<<20)
	dbcopy.ReportRows(opt, "system$user", 600, 6<<20)
	d.finish()

	out := logs.String()
	for _, want := range []string{
		`msg="finished database: pre-data" done="3 items"`,
		`msg="finished database: data" done="1000 rows"`,
		`bytes="10.0 MiB"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "finished database: data") != 1 { // the rows task replaced the items task
		t.Errorf("the data phase finished %d times:\n%s", strings.Count(out, "finished database: data"), out)
	}
}
