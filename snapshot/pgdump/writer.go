package pgdump

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// WriterOptions describe the archive a Writer produces. Zero values mean
// the defaults noted.
type WriterOptions struct {
	// VersionMinor is the archive version 1.minor, 12 to 16 (default 14,
	// which pg_restore 12 and every later one reads).
	VersionMinor int
	// Compression of the data blocks (default gzip, a zlib stream per
	// block). Before 1.15 only none and gzip can be recorded.
	Compression Compression
	// Level is the zlib or zstd level (0: the library's default).
	Level int
	// Created is recorded as the dump's start time (default now).
	Created time.Time
	// DatabaseName, ServerVersion and DumpVersion fill the header's
	// strings (pg_restore -l prints them).
	DatabaseName, ServerVersion, DumpVersion string
	// ChunkSize is the most compressed bytes per chunk (default 32 KiB;
	// pg_dump writes 4 KiB chunks, pg_restore reads any size).
	ChunkSize int
}

// Header sizes this writer uses: 4-byte integers and 8-byte offsets, as
// pg_dump writes on every platform it runs on.
const (
	writeIntSize = 4
	writeOffSize = 8
)

// Writer writes a custom-format archive (what pg_dump -Fc writes): the
// header and the table of contents first, then the data blocks of the
// entries that have data (HadDumper), in any order.
//
// When out is an io.WriteSeeker that can seek, Close goes back and rewrites
// the table of contents with every block's offset, exactly as pg_dump does,
// so that pg_restore -j and the reader's OpenData find blocks directly. On
// a pipe the offsets stay "not set" (K_OFFSET_POS_NOT_SET): this package's
// reader finds the blocks in any order, but pg_restore only when they come
// in table-of-contents order (it cannot go back for an earlier block).
//
// Data and AppendBlock may be called from several goroutines: each block
// is written whole, one at a time. To compress blocks in parallel, encode
// each one with NewBlockEncoder into a buffer or spill file of its own and
// hand the result to AppendBlock.
type Writer struct {
	opts     WriterOptions
	raw      rawOptions
	entries  []Entry
	byID     map[int]int
	out      *countingWriter
	seeker   io.WriteSeeker // nil when out cannot seek
	tocStart int64          // where the entry count starts

	mu      sync.Mutex // held while a block is being written
	written map[int]bool
	err     error // sticky: the archive is unusable
	closed  bool
}

// NewWriter checks entries and writes the header and table of contents to
// out. Entries keep their order; a HadDumper entry must later get exactly
// one data block (Data or AppendBlock). DataOffset fields are ignored.
func NewWriter(out io.Writer, entries []Entry, opts WriterOptions) (*Writer, error) {
	return newWriter(out, entries, opts, rawOptions{})
}

// rawOptions let the package's tests write archives that NewWriter
// refuses, to check that the reader refuses them too.
type rawOptions struct {
	unchecked bool  // skip the checks of versions, dump IDs, sections, dependencies
	format    byte  // the format byte instead of FormatCustom
	algorithm *byte // the 1.15+ compression byte instead of Compression's
}

func newWriter(out io.Writer, entries []Entry, opts WriterOptions, raw rawOptions) (*Writer, error) {
	if opts.VersionMinor == 0 {
		opts.VersionMinor = 14
	}
	if !raw.unchecked && (opts.VersionMinor < minVersionMinor || opts.VersionMinor > maxVersionMinor) {
		return nil, fmt.Errorf("pgdump: cannot write archive version 1.%d (1.%d-1.%d)", opts.VersionMinor, minVersionMinor, maxVersionMinor)
	}
	if opts.Compression == "" {
		opts.Compression = CompressionGzip
	}
	switch opts.Compression {
	case CompressionNone, CompressionGzip:
	case CompressionLZ4, CompressionZstd:
		if opts.VersionMinor < 15 {
			return nil, fmt.Errorf("pgdump: archive version 1.%d cannot record %s compression (1.15 and later can)", opts.VersionMinor, opts.Compression)
		}
	default:
		return nil, fmt.Errorf("pgdump: unknown compression %q", opts.Compression)
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 32 << 10
	}
	if opts.Created.IsZero() {
		opts.Created = time.Now()
	}
	w := &Writer{opts: opts, raw: raw, entries: make([]Entry, len(entries)), byID: make(map[int]int, len(entries)), written: map[int]bool{}}
	copy(w.entries, entries)
	for i := range w.entries {
		e := &w.entries[i]
		if raw.unchecked {
			w.byID[e.DumpID] = i
			continue
		}
		if e.DumpID <= 0 {
			return nil, fmt.Errorf("pgdump: %s: dump ID must be positive", e)
		}
		if _, dup := w.byID[e.DumpID]; dup {
			return nil, fmt.Errorf("pgdump: %s: dump ID %d appears twice", e, e.DumpID)
		}
		if e.Section < SectionNone || e.Section > SectionPostData {
			return nil, fmt.Errorf("pgdump: %s: unknown section %d", e, e.Section)
		}
		w.byID[e.DumpID] = i
		e.DataOffset, e.HasDataOffset = 0, false
	}
	for i := range w.entries {
		if raw.unchecked {
			break
		}
		for _, dep := range w.entries[i].Dependencies {
			if _, ok := w.byID[dep]; !ok {
				return nil, fmt.Errorf("pgdump: %s depends on dump ID %d, which is not in the archive", &w.entries[i], dep)
			}
		}
	}

	if s, ok := out.(io.WriteSeeker); ok {
		if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
			w.seeker = s
			w.out = &countingWriter{w: bufio.NewWriterSize(out, 64<<10), n: pos}
		}
	}
	if w.out == nil {
		w.out = &countingWriter{w: bufio.NewWriterSize(out, 64<<10)}
	}
	w.writeHeader()
	w.tocStart = w.out.n
	w.writeTOC()
	if w.out.err != nil {
		return nil, fmt.Errorf("pgdump: write the table of contents: %w", w.out.err)
	}
	return w, nil
}

// Entries returns the table of contents as written so far (offsets of the
// blocks written are filled in).
func (w *Writer) Entries() []Entry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Entry(nil), w.entries...)
}

// writeHeader writes WriteHead's fields.
func (w *Writer) writeHeader() {
	e := w.out
	e.bytes([]byte("PGDMP"))
	format := byte(FormatCustom)
	if w.raw.format != 0 {
		format = w.raw.format
	}
	e.bytes([]byte{1, byte(w.opts.VersionMinor), 0, writeIntSize, writeOffSize, format})
	if w.opts.VersionMinor >= 15 {
		algorithm := compressionAlgorithm(w.opts.Compression)
		if w.raw.algorithm != nil {
			algorithm = *w.raw.algorithm
		}
		e.bytes([]byte{algorithm})
	} else {
		level := 0
		if w.opts.Compression == CompressionGzip {
			level = w.opts.Level
			if level == 0 {
				level = -1 // Z_DEFAULT_COMPRESSION, what pg_dump -Fc records
			}
		}
		e.int(int64(level))
	}
	t := w.opts.Created
	for _, v := range []int{t.Second(), t.Minute(), t.Hour(), t.Day(), int(t.Month()) - 1, t.Year() - 1900, 0} {
		e.int(int64(v))
	}
	e.str(w.opts.DatabaseName)
	e.str(w.opts.ServerVersion)
	e.str(w.opts.DumpVersion)
}

// compressionAlgorithm is pg_compress_algorithm's code for c.
func compressionAlgorithm(c Compression) byte {
	switch c {
	case CompressionGzip:
		return 1
	case CompressionLZ4:
		return 2
	case CompressionZstd:
		return 3
	}
	return 0
}

// writeTOC writes WriteToc's entries with the custom format's offsets. Its
// size does not depend on the offsets, so Close can rewrite it in place.
func (w *Writer) writeTOC() {
	e := w.out
	e.int(int64(len(w.entries)))
	for i := range w.entries {
		t := &w.entries[i]
		e.int(int64(t.DumpID))
		e.int(boolInt(t.HadDumper))
		e.str(orZero(t.TableOID))
		e.str(orZero(t.OID))
		e.str(t.Tag)
		e.str(t.Desc)
		e.int(int64(t.Section))
		// pg_dump writes NULL for the strings an object does not have;
		// pg_restore tests them for NULL (an empty table access method
		// would become SET default_table_access_method = "").
		e.optStr(t.Defn)
		e.optStr(t.DropStmt)
		e.optStr(t.CopyStmt)
		e.optStr(t.Namespace)
		e.optStr(t.Tablespace)
		if w.opts.VersionMinor >= 14 {
			e.optStr(t.TableAM)
		}
		if w.opts.VersionMinor >= 16 {
			e.int(int64(t.RelKind))
		}
		e.optStr(t.Owner)
		e.str("false") // the obsolete WITH OIDS flag
		for _, d := range t.Dependencies {
			e.str(strconv.Itoa(d))
		}
		e.int(-1) // end of dependencies
		switch {
		case !t.HadDumper:
			e.offset(offsetNoData, 0)
		case t.HasDataOffset:
			e.offset(offsetPosSet, t.DataOffset)
		default:
			e.offset(offsetPosNotSet, 0)
		}
	}
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// CopyTrailer ends the COPY text of a TABLE DATA block as pg_dump writes
// it: the end-of-data marker and blank lines. pg_restore copies a block's
// text as it is into a SQL script (pg_restore -f), which needs the marker.
const CopyTrailer = "\\.\n\n\n"

// Data starts the data block of the entry with dumpID: write its COPY text
// (rows ending in "\n", then CopyTrailer, as pg_dump stores it) and Close
// the returned writer to end the block. Other blocks wait until then.
func (w *Writer) Data(dumpID int) (io.WriteCloser, error) {
	w.mu.Lock()
	if err := w.startBlock(dumpID); err != nil {
		w.mu.Unlock()
		return nil, err
	}
	enc, err := NewBlockEncoder(w.out, dumpID, w.opts.Compression, w.opts.Level, w.opts.ChunkSize)
	if err != nil {
		w.mu.Unlock()
		return nil, err
	}
	return &dataWriter{w: w, enc: enc}, nil
}

type dataWriter struct {
	w    *Writer
	enc  io.WriteCloser
	done bool
}

func (d *dataWriter) Write(p []byte) (int, error) {
	if d.done {
		return 0, errors.New("pgdump: data block written after Close")
	}
	n, err := d.enc.Write(p)
	if err != nil {
		d.w.fail(err)
	}
	return n, err
}

func (d *dataWriter) Close() error {
	if d.done {
		return nil
	}
	d.done = true
	defer d.w.mu.Unlock()
	if err := d.enc.Close(); err != nil {
		d.w.fail(err)
		return err
	}
	return d.w.out.err
}

// AppendBlock copies a complete data block for the entry with dumpID, as
// NewBlockEncoder wrote it, into the archive and records its offset. The
// bytes are not checked.
func (w *Writer) AppendBlock(dumpID int, block io.Reader) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.startBlock(dumpID); err != nil {
		return err
	}
	if _, err := io.Copy(w.out, block); err != nil {
		w.fail(err)
		return fmt.Errorf("pgdump: copy the data block of %s: %w", &w.entries[w.byID[dumpID]], err)
	}
	return w.out.err
}

// startBlock records where dumpID's block starts. w.mu is held.
func (w *Writer) startBlock(dumpID int) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("pgdump: archive writer used after Close")
	}
	i, ok := w.byID[dumpID]
	if !ok {
		return fmt.Errorf("pgdump: no TOC entry has dump ID %d", dumpID)
	}
	e := &w.entries[i]
	if !e.HadDumper {
		return fmt.Errorf("pgdump: %s has no data block", e)
	}
	if w.written[dumpID] {
		return fmt.Errorf("pgdump: %s: its data block was already written", e)
	}
	w.written[dumpID] = true
	e.DataOffset, e.HasDataOffset = w.out.n, true
	return nil
}

func (w *Writer) fail(err error) {
	if w.err == nil {
		w.err = fmt.Errorf("pgdump: archive left incomplete: %w", err)
	}
}

// Close checks that every entry with data got its block, flushes, and on a
// seekable output rewrites the table of contents with the blocks' offsets,
// leaving the output positioned at its end. It does not close out.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	for i := range w.entries {
		if e := &w.entries[i]; e.HadDumper && !w.written[e.DumpID] {
			w.err = fmt.Errorf("pgdump: %s: no data block was written", e)
			return w.err
		}
	}
	if err := w.out.flush(); err != nil {
		w.err = fmt.Errorf("pgdump: write the archive: %w", err)
		return w.err
	}
	if w.seeker == nil {
		// On a pipe the offsets cannot be recorded: readers find the
		// blocks by scanning.
		for i := range w.entries {
			w.entries[i].DataOffset, w.entries[i].HasDataOffset = 0, false
		}
		return nil
	}
	end := w.out.n
	if _, err := w.seeker.Seek(w.tocStart, io.SeekStart); err != nil {
		w.err = fmt.Errorf("pgdump: seek back to the table of contents: %w", err)
		return w.err
	}
	w.out = &countingWriter{w: bufio.NewWriterSize(w.seeker, 64<<10), n: w.tocStart}
	w.writeTOC()
	if err := w.out.flush(); err != nil {
		w.err = fmt.Errorf("pgdump: rewrite the table of contents: %w", err)
		return w.err
	}
	if _, err := w.seeker.Seek(end, io.SeekStart); err != nil {
		w.err = fmt.Errorf("pgdump: seek to the archive's end: %w", err)
		return w.err
	}
	return nil
}

// NewBlockEncoder writes one data block for the entry with dumpID to dst:
// the block header, then what is written to the returned writer compressed
// with c and cut into chunks of at most chunkSize bytes; Close ends the
// compressed stream and writes the zero-length chunk that ends the block.
// It does not close dst.
func NewBlockEncoder(dst io.Writer, dumpID int, c Compression, level, chunkSize int) (io.WriteCloser, error) {
	if chunkSize <= 0 {
		chunkSize = 32 << 10
	}
	var head countingWriter
	head.w = dst
	head.bytes([]byte{blockData})
	head.int(int64(dumpID))
	if head.err != nil {
		return nil, head.err
	}
	chunks := &chunkWriter{dst: dst, buf: make([]byte, 0, chunkSize)}
	comp, err := compressor(c, level, chunks)
	if err != nil {
		return nil, err
	}
	return &blockEncoder{comp: comp, chunks: chunks}, nil
}

// compressor wraps dst in c's compressor; nil Close for none.
func compressor(c Compression, level int, dst io.Writer) (io.WriteCloser, error) {
	switch c {
	case CompressionNone:
		return nopCloser{dst}, nil
	case CompressionGzip:
		if level == 0 {
			level = zlib.DefaultCompression
		}
		return zlib.NewWriterLevel(dst, level)
	case CompressionLZ4:
		return lz4.NewWriter(dst), nil
	case CompressionZstd:
		opts := []zstd.EOption{zstd.WithEncoderConcurrency(1)}
		if level != 0 {
			opts = append(opts, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
		}
		return zstd.NewWriter(dst, opts...)
	default:
		return nil, fmt.Errorf("pgdump: unknown compression %q", c)
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

type blockEncoder struct {
	comp   io.WriteCloser
	chunks *chunkWriter
	closed bool
}

func (b *blockEncoder) Write(p []byte) (int, error) { return b.comp.Write(p) }

func (b *blockEncoder) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if err := b.comp.Close(); err != nil {
		return err
	}
	return b.chunks.end()
}

// chunkWriter cuts a stream into length-prefixed chunks (_CustomWriteFunc).
type chunkWriter struct {
	dst io.Writer
	buf []byte
	err error
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 && c.err == nil {
		k := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(c.buf) == cap(c.buf) {
			c.flush()
		}
	}
	return n, c.err
}

func (c *chunkWriter) flush() {
	if len(c.buf) == 0 || c.err != nil {
		return
	}
	out := countingWriter{w: c.dst}
	out.int(int64(len(c.buf)))
	out.bytes(c.buf)
	c.err = out.err
	c.buf = c.buf[:0]
}

// end writes what is buffered and the zero length that ends the block.
func (c *chunkWriter) end() error {
	c.flush()
	if c.err != nil {
		return c.err
	}
	out := countingWriter{w: c.dst}
	out.int(0)
	return out.err
}

// countingWriter writes the archive's primitive encodings (WriteInt,
// WriteStr, WriteOffset) and counts the bytes, which are data offsets.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
	tmp [1 + 8]byte
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

func (c *countingWriter) bytes(p []byte) { _, _ = c.Write(p) }

func (c *countingWriter) int(v int64) {
	c.tmp[0] = 0
	if v < 0 {
		c.tmp[0], v = 1, -v
	}
	for i := range writeIntSize {
		c.tmp[1+i] = byte(v >> (8 * i))
	}
	c.bytes(c.tmp[:1+writeIntSize])
}

func (c *countingWriter) str(s string) {
	c.int(int64(len(s)))
	_, _ = io.WriteString(c, s)
}

// optStr writes "" as NULL.
func (c *countingWriter) optStr(s string) {
	if s == "" {
		c.int(-1)
		return
	}
	c.str(s)
}

func (c *countingWriter) offset(flag byte, pos int64) {
	c.tmp[0] = flag
	for i := range writeOffSize {
		c.tmp[1+i] = byte(pos >> (8 * i))
	}
	c.bytes(c.tmp[:1+writeOffSize])
}

func (c *countingWriter) flush() error {
	if c.err != nil {
		return c.err
	}
	if f, ok := c.w.(*bufio.Writer); ok {
		c.err = f.Flush()
	}
	return c.err
}
