// Package snapshot reads a Mendix Cloud backup: a full-snapshot .tar.gz
// (.metadata, db/db.backup and tree/xx/yy/<uuid> blobs), a database-only
// .backup file, or a folder where a full snapshot was extracted.
//
// A backup is read in one streaming pass and never extracted: the database
// dump and every blob are handed to callbacks as readers, and anything odd
// in the archive (links, devices, paths that escape, misplaced blobs) is
// reported as an Anomaly instead of being followed or written.
package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Kind is the shape of a backup on disk.
type Kind string

const (
	KindFull     Kind = "full-snapshot" // .tar.gz (or plain .tar) with .metadata, db/ and tree/
	KindDatabase Kind = "database-only" // a bare pg_dump custom-format .backup file
	KindFolder   Kind = "folder"        // a full snapshot already extracted to a folder
)

// acceptedFormats is quoted in every "this is not a backup" error so the
// operator learns what to pass instead.
const acceptedFormats = "mxmigrate reads a Mendix full-snapshot .tar.gz, " +
	"a database-only .backup (pg_dump custom format) or a folder holding an extracted full snapshot"

var (
	gzipMagic  = []byte{0x1f, 0x8b}
	pgdmpMagic = []byte("PGDMP")
	tarMagic   = []byte("ustar") // at offset 257 of a POSIX or GNU tar header
)

// Backup is an opened backup. It holds no open file: each Walk or DumpFile
// opens and closes what it reads, so a Backup may be used more than once.
type Backup struct {
	path       string
	kind       Kind
	compressed bool // KindFull only: gzip-compressed (true) or a plain tar
}

// Open identifies the backup at path by its content, not its name: a
// directory is a folder, a gzip stream a full snapshot, "PGDMP" a
// database-only dump, and a plain tar is accepted as an uncompressed full
// snapshot. Anything else, or a missing path, is a BadInput error.
func Open(path string) (*Backup, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, exitcode.With(exitcode.BadInput,
			fmt.Errorf("backup %s does not exist: check the path", path))
	}
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", path, err)
	}
	if info.IsDir() {
		return &Backup{path: path, kind: KindFolder}, nil
	}
	if !info.Mode().IsRegular() {
		return nil, exitcode.With(exitcode.BadInput,
			fmt.Errorf("backup %s is not a regular file or a folder (%s); %s", path, info.Mode().Type(), acceptedFormats))
	}
	head, err := readHead(path, 512)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", path, err)
	}
	switch {
	case len(head) == 0:
		return nil, exitcode.With(exitcode.BadInput,
			fmt.Errorf("backup %s is empty (0 bytes): download it again", path))
	case bytes.HasPrefix(head, gzipMagic):
		return &Backup{path: path, kind: KindFull, compressed: true}, nil
	case bytes.HasPrefix(head, pgdmpMagic):
		return &Backup{path: path, kind: KindDatabase}, nil
	case len(head) >= 262 && bytes.Equal(head[257:262], tarMagic):
		return &Backup{path: path, kind: KindFull}, nil
	}
	return nil, exitcode.With(exitcode.BadInput,
		fmt.Errorf("backup %s is not a backup mxmigrate recognises (it is neither gzip, tar nor a pg_dump archive); %s", path, acceptedFormats))
}

// readHead returns up to n bytes from the start of the file.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	got, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:got], nil
}

// Kind reports what Open found at the path.
func (b *Backup) Kind() Kind { return b.kind }

// Path is the path given to Open.
func (b *Backup) Path() string { return b.path }

// Walk reads the whole backup once, sequentially and in constant memory
// (apart from 16 bytes per blob to detect duplicate UUIDs), calling v's
// callbacks as it goes. The Summary is returned even with an error and
// describes what was read until then.
//
// A gzip checksum covers the whole archive and is only checked at its end,
// so a "truncated or corrupt" error means that blobs already delivered
// cannot be trusted either: download the backup again and rerun.
func (b *Backup) Walk(ctx context.Context, v Visitor) (*Summary, error) {
	w := newWalker(b, v)
	var err error
	switch b.kind {
	case KindFull:
		err = w.walkTar(ctx)
	case KindFolder:
		err = w.walkFolder(ctx)
	case KindDatabase:
		err = w.walkBare(ctx)
	default:
		err = fmt.Errorf("backup %s: not opened with snapshot.Open", b.path)
	}
	if err == nil && b.kind != KindDatabase {
		err = w.checkComplete()
	}
	return w.sum, err
}
