package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// entryReader reads exactly one entry's bytes. It stops at the recorded
// size, fails if the entry ends early or turns out longer (a file that
// changed while being read), checks ctx on every read so that a large copy
// stops promptly, and remembers the first read failure so that a caller
// can tell a broken backup from a failing callback.
type entryReader struct {
	ctx        context.Context
	r          io.Reader
	size, read int64
	err        error // first failure reading the bytes; never a cancellation
	endChecked bool
}

func newEntryReader(ctx context.Context, r io.Reader, size int64) *entryReader {
	return &entryReader{ctx: ctx, r: r, size: size}
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	left := r.size - r.read
	if left <= 0 {
		return 0, r.checkEnd()
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.r.Read(p)
	r.read += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && r.read < r.size:
		r.err = fmt.Errorf("entry ended after %d of its %d bytes: %w", r.read, r.size, io.ErrUnexpectedEOF)
		return n, r.err
	case errors.Is(err, io.EOF):
		err = nil // the end is confirmed by checkEnd on the next read
	case r.ctx.Err() == nil:
		r.err = err
	}
	return n, err
}

// checkEnd makes sure nothing follows the recorded size.
func (r *entryReader) checkEnd() error {
	if !r.endChecked {
		r.endChecked = true
		var probe [1]byte
		n, err := r.r.Read(probe[:])
		if n > 0 {
			r.err = fmt.Errorf("entry is longer than its recorded %d bytes: did it change while being read?", r.size)
			return r.err
		}
		if err != nil && !errors.Is(err, io.EOF) {
			if r.ctx.Err() == nil {
				r.err = err
			}
			return err
		}
	}
	return io.EOF
}

// ctxReader stops a stream as soon as ctx is done; it sits under the
// decompressor so that even entries skipped inside tar.Reader.Next (which
// reads past them itself) notice a cancellation.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
