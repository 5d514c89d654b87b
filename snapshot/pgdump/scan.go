package pgdump

import (
	"context"
	"errors"
	"io"
)

// ScanData reads the archive's data blocks in file order and calls fn
// with the decompressed COPY text of each TABLE DATA entry. Large-object
// blocks are skipped.
//
// r is either the reader given to ReadTOC (ScanData goes on from where the
// TOC ended, which is what a stream such as a dump inside a tar.gz needs)
// or a reader positioned at DataStart. Data offsets in the TOC are not
// needed, so archives written to a pipe work too.
//
// data is valid only until fn returns, and fn need not read it to the end.
// An error from fn stops the scan and is returned as it is. After the last
// block, ScanData checks that every entry the TOC says has data had a
// block, so a file cut at a block boundary is reported, not taken as a
// complete archive.
func (a *Archive) ScanData(ctx context.Context, r io.Reader, fn func(e *Entry, data io.Reader) error) error {
	d := &decoder{r: a.resume(r), off: a.dataStart, intSize: a.Header.IntSize, offSize: a.Header.OffSize}
	var ds decompressors
	defer ds.close()
	return a.walkBlocks(ctx, d, func(e *Entry, chunks *chunkReader) error {
		data := newDataReader(&ds, a.Header.Compression, chunks)
		if err := fn(e, data); err != nil {
			return err
		}
		return data.finish()
	})
}

// walkBlocks reads the data blocks from d in file order and checks their
// framing. It hands each TABLE DATA block to tableData, which must consume
// the block's payload (read or skip it through chunks), and skips every
// other block itself. At the end it checks that every entry the TOC says
// has data had a block. An error from tableData stops the walk and is
// returned as it is.
func (a *Archive) walkBlocks(ctx context.Context, d *decoder, tableData func(e *Entry, chunks *chunkReader) error) error {
	seen := make(map[int]bool)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, typ, err := a.readBlockHeader(d)
		if errors.Is(err, io.EOF) {
			return a.checkAllSeen(d.off, seen)
		}
		if err != nil {
			return err
		}
		if seen[e.DumpID] {
			return malformed(d.off, "a second data block for %s", e)
		}
		seen[e.DumpID] = true
		chunks := &chunkReader{ctx: ctx, d: d, entry: e}
		switch {
		case typ == blockBlobs:
			err = skipBlobs(d, chunks)
		case e.Desc == "TABLE DATA":
			err = tableData(e, chunks)
		default:
			err = chunks.skip()
		}
		if err != nil {
			return err
		}
	}
}

// readBlockHeader reads a block's type byte and dump ID (_readBlockHeader)
// and finds the entry it belongs to. It returns io.EOF, unwrapped, only
// when the input ends cleanly before a block.
func (a *Archive) readBlockHeader(d *decoder) (*Entry, int, error) {
	at := d.off
	typ, err := d.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		return nil, 0, err
	}
	d.off++
	if typ != blockData && typ != blockBlobs {
		return nil, 0, malformed(at, "unknown data block type %d (want %d or %d)", typ, blockData, blockBlobs)
	}
	id, err := d.readInt("a data block's dump ID")
	if err != nil {
		return nil, 0, err
	}
	e, ok := a.Lookup(int(min(max(id, 0), 1<<31)))
	if !ok {
		return nil, 0, malformed(at, "data block for dump ID %d, which is not in the TOC", id)
	}
	if !e.hasData() {
		return nil, 0, malformed(at, "data block for %s, which the TOC says has no data", e)
	}
	return e, int(typ), nil
}

// skipBlobs skips a BLOBS block: large objects, each an OID and a run of
// chunks, ended by OID 0 (_skipLOs).
func skipBlobs(d *decoder, chunks *chunkReader) error {
	for {
		oid, err := d.readInt("a large object's OID")
		if err != nil {
			return chunks.fail(err)
		}
		if oid == 0 {
			return nil
		}
		lo := &chunkReader{ctx: chunks.ctx, d: d, entry: chunks.entry}
		if err := lo.skip(); err != nil {
			return err
		}
	}
}

// checkAllSeen reports the first entry with data that had no block.
func (a *Archive) checkAllSeen(end int64, seen map[int]bool) error {
	for i := range a.Entries {
		e := &a.Entries[i]
		if e.hasData() && !seen[e.DumpID] {
			return malformed(end, "the archive ends without the data of %s (truncated file?)", e)
		}
	}
	return nil
}
