package pgdump

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
)

// countBufferSize is the chunk CountRows counts newlines in: big enough
// that the per-read overhead vanishes next to bytes.Count.
const countBufferSize = 256 << 10

var countBuffers = sync.Pool{New: func() any {
	b := make([]byte, countBufferSize)
	return &b
}}

// CountRows counts the rows of a stream of COPY text format data, up to the
// end-of-data marker `\.` if there is one (archives of old pg_dump
// versions have it). COPY escapes newlines inside values as `\n`, so every
// row is one line: CountRows counts newline bytes, plus a last line that
// lacks one. It does not allocate per row.
//
// A line that starts with `\.` and goes on with other text is an error, as
// it is for COPY FROM. A backslash right before a raw newline, which COPY
// TO never writes, is not looked for: such a line counts as two rows.
func CountRows(ctx context.Context, data io.Reader) (int64, error) {
	bp := countBuffers.Get().(*[]byte)
	defer countBuffers.Put(bp)
	buf := *bp
	c := rowCounter{lineStart: true}
	keep, empty := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return c.rows, err
		}
		n, err := data.Read(buf[keep:])
		eof := err == io.EOF
		if err != nil && !eof {
			return c.rows, err
		}
		// Like bufio, give up on a reader that keeps returning nothing.
		if empty = empty + 1; n > 0 || eof {
			empty = 0
		} else if empty >= 100 {
			return c.rows, io.ErrNoProgress
		}
		b := buf[:keep+n]
		carry, end, ferr := c.feed(b, eof)
		if ferr != nil {
			return c.rows, ferr
		}
		if end {
			return c.rows, nil
		}
		if eof {
			if !c.lineStart {
				c.rows++ // a last line without its newline
			}
			return c.rows, nil
		}
		keep = copy(buf, b[len(b)-carry:])
	}
}

// rowCounter counts lines across the chunks of a stream.
type rowCounter struct {
	rows      int64
	lineStart bool  // the next byte to examine begins a line
	pos       int64 // stream offset of the next byte to examine
}

var newlineEndMarker = []byte("\n\\.")

// feed examines b, which starts at c.pos. It returns how many bytes at the
// end of b it cannot judge without more input (a line that may be `\.`;
// at most 4 bytes, to be fed again in front of the next chunk) and
// whether it found the end-of-data marker.
func (c *rowCounter) feed(b []byte, eof bool) (carry int, end bool, err error) {
	start := 0
	for {
		// p is a line start whose first byte is a backslash, the only
		// place where the marker can be.
		p := -1
		if start == 0 && c.lineStart && len(b) > 0 && b[0] == '\\' {
			p = 0
		} else if i := bytes.Index(b[start:], newlineEndMarker); i >= 0 {
			p = start + i + 1
		}
		if p < 0 {
			break
		}
		c.rows += int64(bytes.Count(b[start:p], []byte{'\n'}))
		switch endMarkerAt(b[p:], eof) {
		case markerFound:
			return 0, true, nil
		case markerNeedMore:
			c.pos += int64(p)
			c.lineStart = true
			return len(b) - p, false, nil
		case markerCorrupt:
			return 0, false, malformed(c.pos+int64(p), "COPY data line starts with the end-of-data marker \\. and goes on")
		}
		start = p + 1 // a line that merely starts with a backslash
	}
	c.rows += int64(bytes.Count(b[start:], []byte{'\n'}))
	// A backslash that begins the last, unfinished line may start `\.`.
	if !eof && len(b) >= 2 && b[len(b)-1] == '\\' && b[len(b)-2] == '\n' {
		c.pos += int64(len(b) - 1)
		c.lineStart = true
		return 1, false, nil
	}
	if len(b) > 0 {
		c.lineStart = b[len(b)-1] == '\n'
	}
	c.pos += int64(len(b))
	return 0, false, nil
}

type markerState int

const (
	markerNo markerState = iota
	markerFound
	markerNeedMore
	markerCorrupt
)

// endMarkerAt judges the line t, which starts with a backslash: is it
// exactly `\.` (with an optional \r, as COPY FROM allows)?
func endMarkerAt(t []byte, eof bool) markerState {
	switch {
	case len(t) < 2:
		if eof {
			return markerNo
		}
		return markerNeedMore
	case t[1] != '.':
		return markerNo
	case len(t) == 2:
		if eof {
			return markerFound
		}
		return markerNeedMore
	case t[2] == '\n':
		return markerFound
	case t[2] != '\r':
		return markerCorrupt
	case len(t) == 3:
		if eof {
			return markerFound
		}
		return markerNeedMore
	case t[3] == '\n':
		return markerFound
	default:
		return markerCorrupt
	}
}

// CountAllRows counts the rows of every TABLE DATA entry in one sequential
// pass over the data blocks, keyed by dump ID. r is as for ScanData.
// CountAllRowsAt does the same on several cores when the archive's bytes
// can also be read at an offset.
func (a *Archive) CountAllRows(ctx context.Context, r io.Reader) (map[int]int64, error) {
	counts := make(map[int]int64)
	err := a.ScanData(ctx, r, func(e *Entry, data io.Reader) error {
		n, err := countBlockRows(ctx, e, data.(*dataReader))
		if err != nil {
			return err
		}
		counts[e.DumpID] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// countBlockRows counts the rows of one TABLE DATA block; its errors name
// the entry.
func countBlockRows(ctx context.Context, e *Entry, data *dataReader) (int64, error) {
	n, err := CountRows(ctx, data)
	if err != nil && err != data.err {
		err = fmt.Errorf("%s: %w", e, err)
	}
	return n, err
}
