package pgdump

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Data block types (BLK_* in pg_backup_archiver.h).
const (
	blockData  = 1 // one TOC entry's data: chunks of compressed COPY text
	blockBlobs = 3 // large objects: (OID, chunks)... ended by OID 0
)

// chunkReader reads the payload of one data block (_CustomReadFunc): chunks
// of an integer length and that many bytes, up to a zero length.
type chunkReader struct {
	ctx   context.Context
	d     *decoder
	entry *Entry
	left  int64 // bytes left in the current chunk
	done  bool  // the zero length was read
	err   error // sticky
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.d.r.Read(p)
	c.d.off += int64(n)
	c.left -= int64(n)
	if err != nil && c.left > 0 {
		c.err = c.fail(c.d.eofError(err, "a data chunk"))
		return n, c.err
	}
	return n, nil
}

// next reads the length of the next chunk. It checks ctx here, once per
// chunk, so that even a single huge table can be cancelled.
func (c *chunkReader) next() error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	at := c.d.off
	n, err := c.d.readInt("a data chunk length")
	if err != nil {
		return c.fail(err)
	}
	if n < 0 {
		return c.fail(malformed(at, "data chunk length %d is negative", n))
	}
	if n == 0 {
		c.done = true
	}
	c.left = n
	return nil
}

// skip discards the rest of the block without decompressing it.
func (c *chunkReader) skip() error {
	for c.err == nil {
		if c.left > 0 {
			if err := c.d.discard(c.left, "a data chunk"); err != nil {
				c.err = c.fail(err)
				break
			}
			c.left = 0
		}
		if c.done {
			return nil
		}
		c.err = c.next()
	}
	return c.err
}

// fail names the block's entry in err, so that a message about a byte
// offset also says which table it is in.
func (c *chunkReader) fail(err error) error {
	if c.entry == nil {
		return err
	}
	return fmt.Errorf("%s: %w", c.entry, err)
}

// dataReader is the decompressed COPY text of one TABLE DATA block.
type dataReader struct {
	chunks *chunkReader
	plain  io.Reader // decompressed stream; chunks itself when uncompressed
	comp   Compression
	err    error // sticky
}

var errDataClosed = errors.New("pgdump: data reader used after its entry was done")

// newDataReader starts reading a block's payload from chunks.
func newDataReader(ds *decompressors, comp Compression, chunks *chunkReader) *dataReader {
	r := &dataReader{chunks: chunks, comp: comp}
	plain, err := ds.open(comp, chunks)
	if err != nil {
		r.err = r.corrupt(err)
	}
	r.plain = plain
	return r
}

func (r *dataReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.plain.Read(p)
	if err != nil && err != io.EOF {
		r.err = r.corrupt(err)
		return n, r.err
	}
	return n, err
}

// corrupt explains a decompression failure. Errors that already carry an
// exit code (truncation found by chunkReader) or a cancellation pass
// through unchanged.
func (r *dataReader) corrupt(err error) error {
	var coded *exitcode.Error
	if errors.As(err, &coded) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.chunks.fail(malformed(r.chunks.d.off, "%s data ends before its compressed stream does", r.comp))
	}
	return r.chunks.fail(exitcode.With(exitcode.BadInput,
		fmt.Errorf("offset %d: corrupt %s data: %w", r.chunks.d.off, r.comp, err)))
}

// finish invalidates the reader and skips whatever the consumer left
// unread, leaving the decoder at the next block.
func (r *dataReader) finish() error {
	if r.err == nil {
		r.err = errDataClosed
	}
	return r.chunks.skip()
}
