package pgdump

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"sync"
)

// countQueue bounds the blocks that the pass over the stream may have
// found but no worker has started: past it the pass waits, so memory stays
// flat however many tables the archive has.
const countQueue = 256

// blockReadBufferSize is the buffering of a worker's reads from the file.
const blockReadBufferSize = 64 << 10

// CountAllRowsAt is CountAllRows on up to workers cores. The pass over r
// only follows the block framing (block headers and chunk lengths, so it
// still finds a truncated or misframed archive); each TABLE DATA block it
// has passed is decompressed and counted by a worker that reads it again
// from at. at must hold every byte of the archive that r has delivered,
// by the time r delivers it, at its archive offset: the file that r reads,
// or a file filled ahead of r (io.MultiWriter(file, pipe) with r the
// pipe's reader). r is as for ScanData.
//
// Counts and errors are those of CountAllRows: when several blocks are
// bad, the first in the archive is reported, whichever worker finds its
// fault first, and a fault cancels the work on the blocks after it.
func (a *Archive) CountAllRowsAt(ctx context.Context, r io.Reader, at io.ReaderAt, workers int) (map[int]int64, error) {
	scanCtx, stopScan := context.WithCancel(ctx)
	defer stopScan()
	c := &blockCounter{archive: a, at: at, ctx: ctx, stopScan: stopScan,
		counts: make(map[int]int64), failedAt: math.MaxInt, running: make(map[int]context.CancelFunc)}
	stream := &streamEnd{r: a.resume(r), off: a.dataStart}
	d := &decoder{r: bufio.NewReaderSize(stream, readBufferSize), off: a.dataStart,
		intSize: a.Header.IntSize, offSize: a.Header.OffSize}

	jobs := make(chan countJob, countQueue)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() { c.work(jobs) })
	}
	next, handedOver := 0, false
	err := a.walkBlocks(scanCtx, d, func(e *Entry, chunks *chunkReader) error {
		job := countJob{index: next, entry: e, start: d.off}
		next++
		err := chunks.skip()
		job.end = d.off
		if err != nil {
			if isCancellation(err) {
				return err
			}
			// The block's framing is broken. Its worker reads it up to
			// where the stream ended, then meets the stream's own error,
			// so that it reports a fault in the compressed data before
			// the break, or else the break itself, as CountAllRows does.
			job.end, job.tail, job.framing = stream.off, stream.err, err
			handedOver = true
		}
		jobs <- job
		return err
	})
	close(jobs)
	if err != nil && !handedOver {
		c.fail(next, err) // after every block dispatched so far
	}
	wg.Wait()
	if c.err != nil {
		return nil, c.err
	}
	return c.counts, nil
}

// countJob is one TABLE DATA block for a worker.
type countJob struct {
	index      int // among the archive's TABLE DATA blocks, in file order
	entry      *Entry
	start, end int64 // the payload's offsets in the archive
	tail       error // what the stream gave at end when it broke there
	framing    error // the framing fault the pass found in this block
}

// payload reads the block's payload from at, then tail.
func (j countJob) payload(at io.ReaderAt) io.Reader {
	section := io.NewSectionReader(at, j.start, j.end-j.start)
	if j.tail == nil {
		return section
	}
	return io.MultiReader(section, errorReader{j.tail})
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// blockCounter collects the workers' counts and keeps the fault of the
// first bad block.
type blockCounter struct {
	archive  *Archive
	at       io.ReaderAt
	ctx      context.Context
	stopScan context.CancelFunc

	mu       sync.Mutex
	counts   map[int]int64
	failedAt int // index of the first bad block known, MaxInt while none
	err      error
	running  map[int]context.CancelFunc // by job index
}

// work counts the blocks of jobs, with decompressors reused across them.
func (c *blockCounter) work(jobs <-chan countJob) {
	var ds decompressors
	defer ds.close()
	br := bufio.NewReaderSize(nil, blockReadBufferSize)
	for job := range jobs {
		ctx, ok := c.start(job.index)
		if !ok {
			continue // a block before it is bad already
		}
		br.Reset(job.payload(c.at))
		d := &decoder{r: br, off: job.start, intSize: c.archive.Header.IntSize, offSize: c.archive.Header.OffSize}
		data := newDataReader(&ds, c.archive.Header.Compression, &chunkReader{ctx: ctx, d: d, entry: job.entry})
		n, err := countBlockRows(ctx, job.entry, data)
		if err == nil {
			err = data.finish()
		}
		if err == nil {
			err = job.framing
		}
		c.done(job, n, err)
	}
}

// start gives the job its own context, so that a fault in an earlier
// block can cancel it, or tells that such a fault is known already.
func (c *blockCounter) start(index int) (context.Context, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if index > c.failedAt {
		return nil, false
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.running[index] = cancel
	return ctx, true
}

func (c *blockCounter) done(job countJob, rows int64, err error) {
	c.mu.Lock()
	c.running[job.index]()
	delete(c.running, job.index)
	if err == nil {
		c.counts[job.entry.DumpID] = rows
	}
	c.mu.Unlock()
	if err != nil {
		c.fail(job.index, err)
	}
}

// fail records the fault of block index unless an earlier block's is
// known, and cancels the pass and every block after it.
func (c *blockCounter) fail(index int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if index >= c.failedAt {
		return
	}
	c.failedAt, c.err = index, err
	for i, cancel := range c.running {
		if i > index {
			cancel()
		}
	}
	c.stopScan()
}

// streamEnd passes a stream through and remembers where it ended and
// with what error.
type streamEnd struct {
	r   io.Reader
	off int64 // archive offset of the next byte
	err error
}

func (s *streamEnd) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.off += int64(n)
	if err != nil {
		s.err = err
	}
	return n, err
}

func isCancellation(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
