package pgdump

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"reflect"
)

// readBufferSize is the buffering used for sequential reads of an archive.
const readBufferSize = 256 << 10

// Archive is a custom-format archive's header and table of contents. Its
// methods are not safe for concurrent use, except Lookup and Fingerprint.
type Archive struct {
	Header  Header
	Entries []Entry

	byID      map[int]int // dump ID -> index in Entries
	dataStart int64       // offset of the first data block

	// The stream ReadTOC read from, with the bytes it buffered past the
	// TOC, so that ScanData can go on from there.
	src     io.Reader
	pending *bufio.Reader
}

// ReadTOC reads the header and table of contents from r, which must be at
// the start of an archive. Afterwards the archive's data blocks follow:
// pass the same r to ScanData or CountAllRows to read them. When r is an
// io.Seeker or a *bufio.Reader, r itself is left exactly at the first
// data block.
func ReadTOC(r io.Reader) (*Archive, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, readBufferSize)
	}
	d := &decoder{r: br}
	h, err := readHeader(d)
	if err != nil {
		return nil, err
	}
	entries, err := readTOC(d, h)
	if err != nil {
		return nil, err
	}
	a := &Archive{Header: h, Entries: entries, dataStart: d.off, src: r}
	if err := a.index(); err != nil {
		return nil, err
	}
	if br != r {
		a.pending = br
		if s, ok := r.(io.Seeker); ok && br.Buffered() > 0 {
			// Hand back what was read ahead, so that r is at the data.
			if _, err := s.Seek(-int64(br.Buffered()), io.SeekCurrent); err == nil {
				a.pending = nil
			}
		} else if br.Buffered() == 0 {
			a.pending = nil
		}
	}
	return a, nil
}

// index maps dump IDs to entries and rejects duplicates, which would make
// data blocks ambiguous.
func (a *Archive) index() error {
	a.byID = make(map[int]int, len(a.Entries))
	for i := range a.Entries {
		id := a.Entries[i].DumpID
		if j, dup := a.byID[id]; dup {
			return malformed(a.dataStart, "dump ID %d appears twice in the TOC (entries #%d and #%d)", id, j+1, i+1)
		}
		a.byID[id] = i
	}
	return nil
}

// Lookup returns the entry with the given dump ID.
func (a *Archive) Lookup(dumpID int) (*Entry, bool) {
	i, ok := a.byID[dumpID]
	if !ok {
		return nil, false
	}
	return &a.Entries[i], true
}

// DataStart is the archive offset of the first data block, right after the
// table of contents.
func (a *Archive) DataStart() int64 { return a.dataStart }

// resume returns a buffered reader positioned at the first data block:
// the one ReadTOC left behind when r is the stream it read, else a new
// one around r, which the caller promised is at the first data block.
func (a *Archive) resume(r io.Reader) *bufio.Reader {
	if a.pending != nil && sameReader(r, a.src) {
		br := a.pending
		a.pending = nil // the stream moves on; its TOC position is gone
		return br
	}
	if br, ok := r.(*bufio.Reader); ok {
		return br
	}
	return bufio.NewReaderSize(r, readBufferSize)
}

// sameReader tells whether b is the reader a, without panicking on
// dynamic values that == cannot compare. Such values (a struct holding a
// slice, say) are taken to be the same reader when their types match: a
// copy of the value that ReadTOC was given.
func sameReader(a, b io.Reader) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if !va.IsValid() || !vb.IsValid() || va.Type() != vb.Type() {
		return false
	}
	if !va.Comparable() || !vb.Comparable() {
		return true
	}
	return a == b
}

// Fingerprint is a SHA-256 (hex) over the header and every TOC field,
// including data offsets. It identifies one backup: reading the same
// archive again, as a file or as a stream, gives the same fingerprint,
// and any change to the dumped schema, the dump time or the data layout
// gives another.
func (a *Archive) Fingerprint() string {
	f := fingerprinter{h: sha256.New()}
	h := a.Header
	f.str("pgdump archive fingerprint v1")
	f.ints(int64(h.VersionMajor), int64(h.VersionMinor), int64(h.VersionRev),
		int64(h.IntSize), int64(h.OffSize), int64(h.Format), int64(h.CompressionLevel),
		h.Created.Unix())
	f.str(string(h.Compression))
	f.str(h.DatabaseName)
	f.str(h.ServerVersion)
	f.str(h.DumpVersion)
	f.ints(int64(len(a.Entries)))
	for i := range a.Entries {
		e := &a.Entries[i]
		f.ints(int64(e.DumpID), boolInt(e.HadDumper), int64(e.Section), int64(e.RelKind),
			int64(e.dataState), e.DataOffset, int64(len(e.Dependencies)))
		for _, dep := range e.Dependencies {
			f.ints(int64(dep))
		}
		for _, s := range []string{e.TableOID, e.OID, e.Tag, e.Desc, e.Defn, e.DropStmt,
			e.CopyStmt, e.Namespace, e.Tablespace, e.TableAM, e.Owner} {
			f.str(s)
		}
	}
	return hex.EncodeToString(f.h.Sum(nil))
}

// fingerprinter feeds length-prefixed values to a hash, so that no two
// different field sequences hash the same bytes.
type fingerprinter struct {
	h   hash.Hash
	buf [8]byte
}

func (f *fingerprinter) ints(vs ...int64) {
	for _, v := range vs {
		binary.LittleEndian.PutUint64(f.buf[:], uint64(v))
		f.h.Write(f.buf[:])
	}
}

func (f *fingerprinter) str(s string) {
	f.ints(int64(len(s)))
	io.WriteString(f.h, s)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
