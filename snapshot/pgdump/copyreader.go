package pgdump

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
)

// Field is one column value of a COPY row.
type Field struct {
	Null  bool   // the value was `\N`
	Value []byte // the decoded bytes; nil when Null
}

// CopyReader parses COPY text format (the default format of COPY TO, which
// pg_dump stores): one row per line, columns separated by tabs, `\N` for
// NULL, and backslash escapes \b \f \n \r \t \v \\, \NNN (octal) and \xHH
// (hex); any other escaped character stands for itself. It decodes the
// way PostgreSQL's COPY FROM does, except that a backslash right before a
// raw newline, which COPY TO never writes and COPY FROM would take as an
// escaped newline, is an error here, just as CountRows would count the
// line as two.
type CopyReader struct {
	r      *bufio.Reader
	long   []byte  // a line longer than r's buffer, assembled here
	values []byte  // the current row's decoded values, back to back
	fields []Field // the current row
	// fieldStart is where the field being decoded begins in values.
	fieldStart int
	line       int64 // number of the current line, from 1
	pos        int64 // stream offset of the current line
	next       int64 // stream offset of the next line
	err        error // sticky: io.EOF or the first failure
}

// NewCopyReader returns a CopyReader that reads COPY text from r.
func NewCopyReader(r io.Reader) *CopyReader {
	return &CopyReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next row. The returned slice and the Values in it are
// reused by the following call: copy whatever must outlive it. Next returns
// io.EOF after the last row, or at the end-of-data marker `\.`.
func (c *CopyReader) Next() ([]Field, error) {
	if c.err != nil {
		return nil, c.err
	}
	line, err := c.readLine()
	if err != nil {
		c.err = err
		return nil, err
	}
	if bytes.HasPrefix(line, []byte(`\.`)) {
		if len(line) == 2 || (len(line) == 3 && line[2] == '\r') {
			c.err = io.EOF
			return nil, io.EOF
		}
		c.err = malformed(c.pos, "COPY data line %d starts with the end-of-data marker \\. and goes on", c.line)
		return nil, c.err
	}
	c.decode(line)
	return c.fields, nil
}

// readLine returns the next line without its newline.
func (c *CopyReader) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.long = append(c.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = c.r.ReadSlice('\n')
			c.long = append(c.long, line...)
		}
		line = c.long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(line) == 0 {
		return nil, io.EOF
	}
	c.line++
	c.pos = c.next
	c.next += int64(len(line))
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if trailingBackslashes(line)%2 == 1 {
		return nil, malformed(c.pos, "COPY data line %d ends with an unescaped backslash, which COPY TO never writes", c.line)
	}
	return line, nil
}

// trailingBackslashes counts the backslashes at the end of line; an odd
// count means the last one escapes the newline.
func trailingBackslashes(line []byte) int {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n
}

// decode splits line into fields and undoes the escapes, following
// CopyReadAttributesText: an escaped tab is data, not a separator, and a
// field is NULL when its raw text is exactly `\N`.
func (c *CopyReader) decode(line []byte) {
	// Decoding never lengthens a value, so values never moves while the
	// fields point into it.
	c.values = slices.Grow(c.values[:0], len(line))
	c.fields = c.fields[:0]
	c.fieldStart = 0
	rawStart, run := 0, 0 // where the field's raw text and the pending plain run begin
	for i := 0; i < len(line); {
		switch line[i] {
		case '\t':
			c.values = append(c.values, line[run:i]...)
			c.endField(line[rawStart:i])
			i++
			rawStart, run = i, i
		case '\\':
			c.values = append(c.values, line[run:i]...)
			var b byte
			b, i = unescape(line, i+1)
			c.values = append(c.values, b)
			run = i
		default:
			i++
		}
	}
	c.values = append(c.values, line[run:]...)
	c.endField(line[rawStart:])
}

// endField adds the field whose raw text is raw and whose decoded bytes
// are those decoded since the previous field.
func (c *CopyReader) endField(raw []byte) {
	if len(raw) == 2 && raw[0] == '\\' && raw[1] == 'N' {
		c.fields = append(c.fields, Field{Null: true})
	} else {
		c.fields = append(c.fields, Field{Value: c.values[c.fieldStart:len(c.values):len(c.values)]})
	}
	c.fieldStart = len(c.values)
}

// unescape decodes the escape whose backslash precedes line[i] and returns
// the byte it stands for and the index after it. readLine guarantees that
// a backslash is never the last byte of a line.
func unescape(line []byte, i int) (byte, int) {
	if i >= len(line) {
		return '\\', i
	}
	b := line[i]
	i++
	switch b {
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := int(b - '0')
		for k := 0; k < 2 && i < len(line) && line[i] >= '0' && line[i] <= '7'; k++ {
			v = v<<3 + int(line[i]-'0')
			i++
		}
		return byte(v), i
	case 'x':
		v, ok := 0, false
		for k := 0; k < 2 && i < len(line); k++ {
			d, isHex := hexValue(line[i])
			if !isHex {
				break
			}
			v, ok = v<<4+d, true
			i++
		}
		if !ok {
			return 'x', i
		}
		return byte(v), i
	case 'b':
		return '\b', i
	case 'f':
		return '\f', i
	case 'n':
		return '\n', i
	case 'r':
		return '\r', i
	case 't':
		return '\t', i
	case 'v':
		return '\v', i
	default:
		return b, i
	}
}

func hexValue(b byte) (int, bool) {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0'), true
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10, true
	case b >= 'A' && b <= 'F':
		return int(b-'A') + 10, true
	}
	return 0, false
}
