package postgres

import (
	"bytes"
	"io"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// reportEveryRows is how many rows a table's copy counts before it tells
// the progress display: often enough for a live rate, rarely enough that
// the display's lock is never felt.
const reportEveryRows = 10_000

// rowReporter counts the rows of a table's COPY text as the COPY reads it
// (every line up to the end-of-data marker `\.`, as pgdump.CountRows
// counts them; a last line without its newline, which pg_dump never
// writes, is not counted) and reports rows and their bytes to a
// dbcopy.TableProgress in batches.
type rowReporter struct {
	r        io.Reader
	progress dbcopy.Progress
	table    string

	rows, bytes int64 // counted and not yet reported
	lineLen     int   // bytes of the current line so far
	head        [2]byte
	ended       bool // past the end-of-data marker
}

// reportRows wraps data so that its rows are reported to p, if p wants to
// know (dbcopy.TableProgress); otherwise it returns data as it is.
func reportRows(data io.Reader, p dbcopy.Progress, table string) io.Reader {
	if _, ok := p.(dbcopy.TableProgress); !ok {
		return data
	}
	return &rowReporter{r: data, progress: p, table: table}
}

func (c *rowReporter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.count(p[:n])
	if c.rows >= reportEveryRows || (err != nil && (c.rows > 0 || c.bytes > 0)) {
		dbcopy.ReportRows(c.progress, c.table, c.rows, c.bytes)
		c.rows, c.bytes = 0, 0
	}
	return n, err
}

func (c *rowReporter) count(b []byte) {
	if c.ended {
		return
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		line := b
		if i >= 0 {
			line = b[:i]
		}
		for j := 0; j < len(line) && c.lineLen+j < len(c.head); j++ {
			c.head[c.lineLen+j] = line[j]
		}
		c.lineLen += len(line)
		if i < 0 {
			return
		}
		if c.lineLen == 2 && c.head == [2]byte{'\\', '.'} {
			c.ended = true
			return
		}
		c.rows++
		c.bytes += int64(c.lineLen + 1)
		c.lineLen = 0
		b = b[i+1:]
	}
}
