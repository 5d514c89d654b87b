package postgres

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
)

// defaultChunkSize is how much COPY text a split table hands to one of its
// connections at a time. Each chunk ends at a row boundary.
const defaultChunkSize = 1 << 20

// chunk is a piece of a table's COPY text. Chunks end at a row boundary,
// except that a row longer than a chunk spans several: every chunk of such
// a row but its last has more set, and one reader takes them all.
type chunk struct {
	buf  []byte // the whole buffer, returned to the stream when read
	data []byte // the COPY text in it
	more bool
}

// splitStream cuts one table's COPY text at row boundaries into chunks
// that several COPY statements, on several connections, read at once.
// Memory is bounded: at most maxBufs buffers of chunkSize exist.
type splitStream struct {
	ctx    context.Context
	cancel context.CancelCauseFunc

	chunks chan *chunk
	free   chan []byte
	size   int

	allocMu sync.Mutex
	alloc   int
	maxBufs int

	// take is held by a reader from the first chunk of a long row to its
	// last, so that no other reader gets the middle of the row.
	take sync.Mutex

	errMu   sync.Mutex
	readErr error // the producer's error, set before chunks is closed
}

func newSplitStream(ctx context.Context, chunkSize, readers int) *splitStream {
	ctx, cancel := context.WithCancelCause(ctx)
	maxBufs := 2*readers + 3
	return &splitStream{
		ctx: ctx, cancel: cancel, size: chunkSize, maxBufs: maxBufs,
		chunks: make(chan *chunk, readers+1),
		free:   make(chan []byte, maxBufs),
	}
}

// buffer returns a free buffer, waiting for one when all are in use.
func (s *splitStream) buffer() ([]byte, error) {
	select {
	case b := <-s.free:
		return b, nil
	default:
	}
	s.allocMu.Lock()
	if s.alloc < s.maxBufs {
		s.alloc++
		s.allocMu.Unlock()
		return make([]byte, s.size), nil
	}
	s.allocMu.Unlock()
	select {
	case b := <-s.free:
		return b, nil
	case <-s.ctx.Done():
		return nil, context.Cause(s.ctx)
	}
}

func (s *splitStream) release(b []byte) {
	select {
	case s.free <- b[:cap(b)]:
	default:
	}
}

// produce reads the table's COPY text from r and cuts it into chunks until
// r ends; then it closes the stream.
func (s *splitStream) produce(r io.Reader) error {
	err := s.cut(r)
	if err != nil {
		s.errMu.Lock()
		s.readErr = err
		s.errMu.Unlock()
		s.cancel(err)
	}
	close(s.chunks)
	return err
}

func (s *splitStream) cut(r io.Reader) error {
	buf, err := s.buffer()
	if err != nil {
		return err
	}
	filled := 0
	for {
		n, rerr := io.ReadFull(r, buf[filled:])
		filled += n
		eof := errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF)
		if rerr != nil && !eof {
			return rerr
		}
		data := buf[:filled]
		if eof {
			if len(data) == 0 {
				s.release(buf)
				return nil
			}
			return s.send(&chunk{buf: buf, data: data})
		}
		cut := bytes.LastIndexByte(data, '\n')
		if cut < 0 {
			// A row longer than the buffer: the reader that takes this
			// chunk takes the rest of the row too.
			if err := s.send(&chunk{buf: buf, data: data, more: true}); err != nil {
				return err
			}
			if buf, err = s.buffer(); err != nil {
				return err
			}
			filled = 0
			continue
		}
		next, err := s.buffer()
		if err != nil {
			return err
		}
		filled = copy(next, data[cut+1:])
		if err := s.send(&chunk{buf: buf, data: data[:cut+1]}); err != nil {
			return err
		}
		buf = next
	}
}

func (s *splitStream) send(c *chunk) error {
	select {
	case s.chunks <- c:
		return nil
	case <-s.ctx.Done():
		return context.Cause(s.ctx)
	}
}

// next hands a reader its next chunk; io.EOF when the text is all taken.
func (s *splitStream) next(holding *bool) (*chunk, error) {
	if !*holding {
		s.take.Lock()
	}
	select {
	case c, ok := <-s.chunks:
		if !ok {
			*holding = false
			s.take.Unlock()
			s.errMu.Lock()
			err := s.readErr
			s.errMu.Unlock()
			if err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		*holding = c.more
		if !c.more {
			s.take.Unlock()
		}
		return c, nil
	case <-s.ctx.Done():
		*holding = false
		s.take.Unlock()
		return nil, context.Cause(s.ctx)
	}
}

// partReader is one COPY statement's view of a split table's text.
type partReader struct {
	s       *splitStream
	cur     *chunk
	off     int
	holding bool
}

func (r *partReader) Read(p []byte) (int, error) {
	for r.cur == nil || r.off == len(r.cur.data) {
		if r.cur != nil {
			r.s.release(r.cur.buf)
			r.cur = nil
		}
		c, err := r.s.next(&r.holding)
		if err != nil {
			return 0, err
		}
		r.cur, r.off = c, 0
	}
	n := copy(p, r.cur.data[r.off:])
	r.off += n
	return n, nil
}

// close lets go of what the reader holds once its COPY has ended, however
// it ended, so that the other readers are not stuck behind it.
func (r *partReader) close() {
	if r.holding {
		r.holding = false
		r.s.take.Unlock()
	}
	if r.cur != nil {
		r.s.release(r.cur.buf)
		r.cur = nil
	}
}
