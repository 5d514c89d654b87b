package pgdump

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// ArchiveFile is an archive on disk, open for random access to its data.
// OpenData and Data may be used from several goroutines at once: reads go
// through ReadAt and share no file position.
type ArchiveFile struct {
	*Archive
	path string
	f    *os.File
	size int64

	mu        sync.Mutex
	found     map[int]int64 // data block offsets learnt by scanning
	scannedTo int64         // where the next scan for unknown blocks starts
}

// Open reads the header and TOC of the archive at path. Errors name the
// path. Close the ArchiveFile when done.
func Open(path string) (*ArchiveFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	a, err := ReadTOC(bufio.NewReaderSize(f, readBufferSize))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a.src, a.pending = nil, nil
	return &ArchiveFile{Archive: a, path: path, f: f, size: info.Size(),
		found: make(map[int]int64), scannedTo: a.dataStart}, nil
}

// Close closes the file. Readers from OpenData must not be used after it.
func (f *ArchiveFile) Close() error { return f.f.Close() }

// Data returns a new reader of the data blocks, from DataStart to the end
// of the file, for ScanData and CountAllRows.
func (f *ArchiveFile) Data() io.Reader {
	return io.NewSectionReader(f.f, f.dataStart, f.size-f.dataStart)
}

// OpenData returns the decompressed COPY text of a TABLE DATA entry. It
// goes straight to the entry's recorded offset, or, when pg_dump wrote to
// a pipe and recorded none, finds the block by skipping from block header
// to block header (remembering what it passes for later calls). Close the
// reader when done; ctx is checked at every chunk while reading.
func (f *ArchiveFile) OpenData(ctx context.Context, e *Entry) (io.ReadCloser, error) {
	if e == nil {
		return nil, fmt.Errorf("%s: OpenData needs an entry", f.path)
	}
	e, d, err := f.openBlock(ctx, e, "TABLE DATA", blockData)
	if err != nil {
		return nil, err
	}
	ds := &decompressors{}
	data := newDataReader(ds, f.Header.Compression, &chunkReader{ctx: ctx, d: d, entry: e})
	return &fileData{dataReader: data, ds: ds}, nil
}

// openBlock finds the data block of e, which must be of kind desc, checks
// its header and returns a decoder positioned at its payload.
func (f *ArchiveFile) openBlock(ctx context.Context, e *Entry, desc string, blockType int) (*Entry, *decoder, error) {
	own, ok := f.Lookup(e.DumpID)
	if !ok {
		return nil, nil, fmt.Errorf("%s: dump ID %d is not in this archive's TOC", f.path, e.DumpID)
	}
	e = own
	if e.Desc != desc || !e.hasData() {
		return nil, nil, fmt.Errorf("%s: %s has no %s to open", f.path, e, strings.ToLower(desc))
	}
	pos := e.DataOffset
	if !e.HasDataOffset {
		var err error
		if pos, err = f.findBlock(ctx, e.DumpID); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.path, err)
		}
	}
	if pos < f.dataStart || pos >= f.size {
		return nil, nil, fmt.Errorf("%s: %w", f.path,
			malformed(pos, "%s has a data offset outside the data area (%d-%d)", e, f.dataStart, f.size))
	}
	d := f.decoderAt(pos)
	got, typ, err := f.readBlockHeader(d)
	if err == io.EOF {
		err = malformed(pos, "archive ends where the data of %s should be", e)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.path, err)
	}
	if got != e || typ != blockType {
		return nil, nil, fmt.Errorf("%s: %w", f.path,
			malformed(pos, "the TOC says the data of %s starts here, but found the block of %s", e, got))
	}
	return e, d, nil
}

// ReadBlobs calls fn with each large object of a BLOBS entry, in archive
// order: its OID and its decompressed contents, valid until fn returns.
// An error from fn stops the reading and is returned as it is.
func (f *ArchiveFile) ReadBlobs(ctx context.Context, e *Entry, fn func(oid uint32, data io.Reader) error) error {
	if e == nil {
		return fmt.Errorf("%s: ReadBlobs needs an entry", f.path)
	}
	e, d, err := f.openBlock(ctx, e, "BLOBS", blockBlobs)
	if err != nil {
		return err
	}
	var ds decompressors
	defer ds.close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		at := d.off
		oid, err := d.readInt("a large object's OID")
		if err != nil {
			return fmt.Errorf("%s: %s: %w", f.path, e, err)
		}
		if oid == 0 {
			return nil
		}
		if oid < 0 || oid > 1<<32-1 {
			return fmt.Errorf("%s: %s: %w", f.path, e, malformed(at, "large object OID %d is out of range", oid))
		}
		data := newDataReader(&ds, f.Header.Compression, &chunkReader{ctx: ctx, d: d, entry: e})
		if err := fn(uint32(oid), data); err != nil {
			return err
		}
		if err := data.finish(); err != nil {
			return err
		}
	}
}

func (f *ArchiveFile) decoderAt(pos int64) *decoder {
	sr := io.NewSectionReader(f.f, pos, f.size-pos)
	return &decoder{r: bufio.NewReaderSize(sr, 64<<10), off: pos,
		intSize: f.Header.IntSize, offSize: f.Header.OffSize}
}

// findBlock skips through the data blocks that no earlier call passed,
// reading only block headers and chunk lengths, until it meets the block
// of dumpID.
func (f *ArchiveFile) findBlock(ctx context.Context, dumpID int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pos, ok := f.found[dumpID]; ok {
		return pos, nil
	}
	d := f.decoderAt(f.scannedTo)
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		at := d.off
		e, typ, err := f.readBlockHeader(d)
		if err == io.EOF {
			entry, _ := f.Lookup(dumpID)
			return 0, malformed(at, "the archive ends without the data of %s (truncated file?)", entry)
		}
		if err != nil {
			return 0, err
		}
		f.found[e.DumpID] = at
		chunks := &chunkReader{ctx: ctx, d: d, entry: e}
		if typ == blockBlobs {
			err = skipBlobs(d, chunks)
		} else {
			err = chunks.skip()
		}
		if err != nil {
			return 0, err
		}
		f.scannedTo = d.off
		if e.DumpID == dumpID {
			return at, nil
		}
	}
}

// fileData is OpenData's reader: it owns its decompressors. Close may be
// called while another goroutine is still in Read (a driver's copy that
// was cancelled can leave its reading goroutine behind), so the two are
// serialised: a Read after Close returns errDataClosed.
type fileData struct {
	mu sync.Mutex
	*dataReader
	ds *decompressors
}

func (r *fileData) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dataReader.Read(p)
}

func (r *fileData) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = errDataClosed
	r.ds.close()
	return nil
}
