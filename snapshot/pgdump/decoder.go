package pgdump

import (
	"bufio"
	"errors"
	"io"
	"math"
	"slices"
)

// Bounds on lengths read from the archive. pg_dump never comes near them;
// they keep a corrupt or hostile archive from making the reader allocate
// without limit.
const (
	maxStringLen     = 256 << 20 // one TOC string (a huge view or function body)
	maxEntries       = 1 << 22   // TOC entries in one archive
	maxDependencies  = 1 << 20   // dependencies of one TOC entry
	stringGrowthStep = 64 << 10  // strings grow as their bytes actually arrive
)

// Offset flags of a TOC entry's data position (K_OFFSET_* in
// pg_backup_archiver.h).
const (
	offsetPosNotSet = 1 // the entry has data, but pg_dump could not seek back to record where
	offsetPosSet    = 2 // the entry's data block starts at the recorded offset
	offsetNoData    = 3 // the entry has no data block
)

// decoder reads the archive's primitive values and counts the bytes it
// consumed, so that every error can say where the input went wrong.
type decoder struct {
	r       *bufio.Reader
	off     int64 // offset in the archive of the next byte r returns
	intSize int   // bytes of an integer's magnitude (after the sign byte)
	offSize int   // bytes of a file offset (after the flag byte)
}

// eofError turns running out of input into a malformed-archive error and
// passes real I/O errors through unchanged.
func (d *decoder) eofError(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed(d.off, "archive ends in the middle of %s (truncated file?)", what)
	}
	return err
}

func (d *decoder) readByte(what string) (byte, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		return 0, d.eofError(err, what)
	}
	d.off++
	return b, nil
}

func (d *decoder) readFull(p []byte, what string) error {
	n, err := io.ReadFull(d.r, p)
	d.off += int64(n)
	if err != nil {
		return d.eofError(err, what)
	}
	return nil
}

// discard skips n bytes without keeping them.
func (d *decoder) discard(n int64, what string) error {
	for n > 0 {
		step := int(min(n, 1<<30))
		got, err := d.r.Discard(step)
		d.off += int64(got)
		n -= int64(got)
		if err != nil {
			return d.eofError(err, what)
		}
	}
	return nil
}

// readInt reads WriteInt's encoding: a sign byte (non-zero means negative)
// and intSize magnitude bytes, least significant first.
func (d *decoder) readInt(what string) (int64, error) {
	start := d.off
	var buf [1 + 32]byte
	p := buf[:1+d.intSize]
	if err := d.readFull(p, what); err != nil {
		return 0, err
	}
	var mag uint64
	for i, b := range p[1:] {
		if i >= 8 {
			if b != 0 {
				return 0, malformed(start, "%s does not fit in 64 bits", what)
			}
			continue
		}
		mag |= uint64(b) << (8 * i)
	}
	if mag > math.MaxInt64 {
		return 0, malformed(start, "%s does not fit in 64 bits", what)
	}
	if p[0] != 0 {
		return -int64(mag), nil
	}
	return int64(mag), nil
}

// readInt32 reads an integer that pg_dump wrote from a C int.
func (d *decoder) readInt32(what string) (int, error) {
	start := d.off
	v, err := d.readInt(what)
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, malformed(start, "%s %d is out of range", what, v)
	}
	return int(v), nil
}

// readStr reads WriteStr's encoding: a length, negative for a NULL string,
// then that many bytes. The string grows as its bytes arrive, so a forged
// length costs no more memory than the input really holds.
func (d *decoder) readStr(what string) (s string, null bool, err error) {
	start := d.off
	n, err := d.readInt("length of " + what)
	if err != nil {
		return "", false, err
	}
	if n < 0 {
		return "", true, nil
	}
	if n > maxStringLen {
		return "", false, malformed(start, "%s is %d bytes long, more than the %d this reader accepts", what, n, maxStringLen)
	}
	if n <= stringGrowthStep {
		buf := make([]byte, n)
		if err := d.readFull(buf, what); err != nil {
			return "", false, err
		}
		return string(buf), false, nil
	}
	var buf []byte
	for int64(len(buf)) < n {
		have := len(buf)
		step := int(min(n-int64(have), stringGrowthStep))
		buf = slices.Grow(buf, step)[:have+step]
		if err := d.readFull(buf[have:], what); err != nil {
			return "", false, err
		}
	}
	return string(buf), false, nil
}

// readOffset reads WriteOffset's encoding: a K_OFFSET_* flag byte and
// offSize bytes of position, least significant first.
func (d *decoder) readOffset(what string) (flag byte, pos int64, err error) {
	start := d.off
	flag, err = d.readByte(what)
	if err != nil {
		return 0, 0, err
	}
	switch flag {
	case offsetPosNotSet, offsetPosSet, offsetNoData:
	default:
		return 0, 0, malformed(start, "%s has unknown flag %d (want 1, 2 or 3)", what, flag)
	}
	var buf [16]byte
	p := buf[:d.offSize]
	if err := d.readFull(p, what); err != nil {
		return 0, 0, err
	}
	var v uint64
	for i, b := range p {
		if i >= 8 {
			if b != 0 {
				return 0, 0, malformed(start, "%s does not fit in 64 bits", what)
			}
			continue
		}
		v |= uint64(b) << (8 * i)
	}
	if v > math.MaxInt64 {
		return 0, 0, malformed(start, "%s %d is out of range", what, v)
	}
	return flag, int64(v), nil
}
