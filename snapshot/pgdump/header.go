package pgdump

import (
	"bytes"
	"fmt"
	"time"
)

// Compression is the algorithm that compresses an archive's data blocks.
type Compression string

// The compressions pg_dump writes. Before archive version 1.15 the header
// held only a zlib level, so those archives are either none or gzip.
const (
	CompressionNone Compression = "none"
	CompressionGzip Compression = "gzip" // a zlib (RFC 1950) stream per data block
	CompressionLZ4  Compression = "lz4"  // an LZ4 frame per data block
	CompressionZstd Compression = "zstd" // a zstd frame per data block
)

// Archive format codes (ArchiveFormat in pg_backup.h).
const (
	FormatCustom    = 1
	formatTar       = 3
	formatDirectory = 5
)

// The archive versions this reader understands. 1.12 is what pg_dump 9.0
// and later write, 1.16 what pg_dump 17 and 18 write.
const (
	minVersionMinor = 12
	maxVersionMinor = 16
)

// Header is the archive's fixed header (WriteHead in pg_backup_archiver.c).
type Header struct {
	VersionMajor, VersionMinor, VersionRev int
	// IntSize and OffSize are the byte widths of integers and file
	// offsets in the archive (after their sign or flag byte).
	IntSize, OffSize int
	// Format is always FormatCustom for an archive this package opens.
	Format      int
	Compression Compression
	// CompressionLevel is the zlib level recorded by archives older than
	// 1.15 (-1 for zlib's default, 0 for none). Version 1.15 and later
	// record only the algorithm, and this is 0.
	CompressionLevel int
	// Created is the wall-clock time at which pg_dump started, in the
	// dumping machine's local time zone. The archive does not say which
	// zone that was, so the value is stored as if it were UTC.
	Created time.Time
	// DatabaseName is the name of the dumped database.
	DatabaseName string
	// ServerVersion is the dumped server's version (archRemoteVersion),
	// e.g. "15.4" or "15.4 (Debian 15.4-1.pgdg120+1)".
	ServerVersion string
	// DumpVersion is the version of the pg_dump that wrote the archive.
	DumpVersion string
}

// Version is the archive format version, e.g. "1.14".
func (h Header) Version() string {
	return fmt.Sprintf("%d.%d", h.VersionMajor, h.VersionMinor)
}

// MinRestoreMajor is the oldest PostgreSQL major version whose pg_restore
// reads this archive version (the first release that wrote it; pg_restore
// refuses archives newer than its own pg_dump writes). Majors before 10
// are reported as 9. Version 1.13 was also back-patched into the 2018
// minor releases 9.3.22, 9.4.17, 9.5.12, 9.6.8 and 10.3; 11 is the first
// major release that has it in every minor release.
func (h Header) MinRestoreMajor() int {
	if h.VersionMajor != 1 {
		return 0
	}
	switch {
	case h.VersionMinor <= 12:
		return 9 // 1.12: 9.0, separate BLOB entries
	case h.VersionMinor == 13:
		return 11 // search_path handling (CVE-2018-1058)
	case h.VersionMinor == 14:
		return 12 // table access methods
	case h.VersionMinor == 15:
		return 16 // compression algorithm byte in the header
	case h.VersionMinor == 16:
		return 17 // BLOB METADATA entries, several BLOBS entries, relkind
	default:
		return 0
	}
}

// atLeast reports whether the archive version is 1.minor or newer.
func (h Header) atLeast(minor int) bool {
	return h.VersionMajor > 1 || (h.VersionMajor == 1 && h.VersionMinor >= minor)
}

// readHeader reads and checks the archive header (ReadHead).
func readHeader(d *decoder) (Header, error) {
	if magic, _ := d.r.Peek(5); string(magic) != "PGDMP" {
		return Header{}, notCustomFormat(d)
	}
	if err := d.discard(5, "the signature"); err != nil {
		return Header{}, err
	}
	var h Header
	var version [3]byte
	if err := d.readFull(version[:2], "the archive version"); err != nil {
		return Header{}, err
	}
	if version[0] > 1 || (version[0] == 1 && version[1] > 0) {
		if err := d.readFull(version[2:], "the archive version"); err != nil {
			return Header{}, err
		}
	}
	h.VersionMajor, h.VersionMinor, h.VersionRev = int(version[0]), int(version[1]), int(version[2])
	switch {
	case h.VersionMajor > 1 || (h.VersionMajor == 1 && h.VersionMinor > maxVersionMinor):
		return Header{}, unsupported("archive version %s is newer than this reader supports (1.%d-1.%d)",
			h.Version(), minVersionMinor, maxVersionMinor)
	case h.VersionMajor < 1 || h.VersionMinor < minVersionMinor:
		return Header{}, unsupported("archive version %s is older than this reader supports (1.%d-1.%d); it was written by a pg_dump older than 9.0",
			h.Version(), minVersionMinor, maxVersionMinor)
	}

	at := d.off
	b, err := d.readByte("the integer size")
	if err != nil {
		return Header{}, err
	}
	if b < 1 || b > 32 {
		return Header{}, malformed(at, "integer size %d is not between 1 and 32", b)
	}
	h.IntSize, d.intSize = int(b), int(b)
	at = d.off
	if b, err = d.readByte("the offset size"); err != nil {
		return Header{}, err
	}
	if b < 1 || b > 16 {
		return Header{}, malformed(at, "file offset size %d is not between 1 and 16", b)
	}
	h.OffSize, d.offSize = int(b), int(b)

	at = d.off
	if b, err = d.readByte("the archive format"); err != nil {
		return Header{}, err
	}
	h.Format = int(b)
	switch h.Format {
	case FormatCustom:
	case formatDirectory:
		return Header{}, unsupported("this is the toc.dat of a directory-format archive (pg_dump -Fd); only custom-format archives (pg_dump -Fc) are supported")
	case formatTar:
		return Header{}, unsupported("this is the toc.dat of a tar-format archive (pg_dump -Ft); only custom-format archives (pg_dump -Fc) are supported")
	default:
		return Header{}, malformed(at, "unknown archive format %d", h.Format)
	}

	if err := readCompression(d, &h); err != nil {
		return Header{}, err
	}

	// struct tm as WriteHead stores it: sec, min, hour, mday, mon (0-11),
	// year (since 1900), isdst.
	var tm [7]int
	for i, what := range []string{"second", "minute", "hour", "day", "month", "year", "isdst"} {
		if tm[i], err = d.readInt32("the creation " + what); err != nil {
			return Header{}, err
		}
	}
	h.Created = time.Date(tm[5]+1900, time.Month(tm[4]+1), tm[3], tm[2], tm[1], tm[0], 0, time.UTC)

	if h.DatabaseName, _, err = d.readStr("the database name"); err != nil {
		return Header{}, err
	}
	if h.ServerVersion, _, err = d.readStr("the server version"); err != nil {
		return Header{}, err
	}
	if h.DumpVersion, _, err = d.readStr("the pg_dump version"); err != nil {
		return Header{}, err
	}
	return h, nil
}

// readCompression reads the compression algorithm byte of 1.15+ or the
// zlib level of older archives.
func readCompression(d *decoder, h *Header) error {
	at := d.off
	if h.atLeast(15) {
		b, err := d.readByte("the compression algorithm")
		if err != nil {
			return err
		}
		// pg_compress_algorithm in common/compression.h.
		switch b {
		case 0:
			h.Compression = CompressionNone
		case 1:
			h.Compression = CompressionGzip
		case 2:
			h.Compression = CompressionLZ4
		case 3:
			h.Compression = CompressionZstd
		default:
			return unsupported("offset %d: unsupported compression algorithm %d", at, b)
		}
		return nil
	}
	level, err := d.readInt32("the compression level")
	if err != nil {
		return err
	}
	if level < -1 || level > 9 {
		return malformed(at, "compression level %d is not between -1 and 9", level)
	}
	h.CompressionLevel = level
	h.Compression = CompressionGzip
	if level == 0 {
		h.Compression = CompressionNone
	}
	return nil
}

// notCustomFormat explains what the input is when it lacks the PGDMP
// signature, so that a user who passes the wrong file learns what to do.
func notCustomFormat(d *decoder) error {
	head, _ := d.r.Peek(512)
	switch {
	case len(head) == 0:
		return malformed(0, "the file is empty, not a pg_dump archive")
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return unsupported("this is a gzip-compressed file, not a pg_dump custom-format archive (a Mendix backup .tar.gz holds the archive as db/db.backup)")
	case bytes.HasPrefix(head, []byte("--\n-- PostgreSQL database")):
		return unsupported("this is a plain SQL dump (pg_dump -Fp); only custom-format archives (pg_dump -Fc) are supported")
	case len(head) == 512 && bytes.Equal(head[257:262], []byte("ustar")):
		return unsupported("this is a tar file (pg_dump -Ft, or a tar that holds the archive); only custom-format archives (pg_dump -Fc) are supported")
	default:
		return malformed(0, "not a pg_dump custom-format archive (no PGDMP signature)")
	}
}
