package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// DumpFileName is the name DumpFile writes inside its dir for a tar backup.
const DumpFileName = "db.backup"

// DumpFile gives the database dump as a file on local disk, because
// pg_restore -j needs to seek. For a folder or a bare .backup that is the
// file in place and cleanup does nothing. For a tar the dump entry alone is
// streamed to dir/db.backup (reading stops right after it) and cleanup
// removes it. The copy is written under a temporary name and renamed when
// complete, so an interrupted copy is never mistaken for a dump.
//
// DumpFile stops reading at the dump, so it neither looks for a second dump
// nor reaches the gzip checksum at the end of the archive; Walk does both.
func (b *Backup) DumpFile(ctx context.Context, dir string) (path string, cleanup func(), err error) {
	noCleanup := func() {}
	switch b.kind {
	case KindDatabase:
		return b.path, noCleanup, nil
	case KindFolder:
		p := filepath.Join(b.path, filepath.FromSlash(dumpEntry))
		info, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return "", noCleanup, missingDump(b.path)
		}
		if err != nil {
			return "", noCleanup, fmt.Errorf("backup folder %s: %w", b.path, err)
		}
		if !info.Mode().IsRegular() {
			return "", noCleanup, exitcode.With(exitcode.BadInput,
				fmt.Errorf("backup folder %s: %s is not a regular file (%s): replace it with the real dump", b.path, dumpEntry, info.Mode().Type()))
		}
		return p, noCleanup, nil
	case KindFull:
		p, err := b.extractDump(ctx, dir)
		if err != nil {
			return "", noCleanup, err
		}
		return p, func() { _ = os.Remove(p) }, nil
	}
	return "", noCleanup, fmt.Errorf("backup %s: not opened with snapshot.Open", b.path)
}

// extractDump streams the tar up to the dump entry and copies that entry
// alone to dir.
func (b *Backup) extractDump(ctx context.Context, dir string) (string, error) {
	s, err := openTarStream(ctx, b)
	if err != nil {
		return "", err
	}
	defer s.close()
	for {
		hdr, err := s.next()
		if errors.Is(err, io.EOF) {
			return "", missingDump(b.path)
		}
		if err != nil {
			return "", err
		}
		e := tarEntry(hdr)
		if place(e).role != roleDump {
			continue
		}
		return s.copyEntry(e, dir)
	}
}

// copyEntry writes the current entry to dir/DumpFileName via a temporary
// file that is removed on any failure.
func (s *tarStream) copyEntry(e entry, dir string) (string, error) {
	tmp, err := os.CreateTemp(dir, "."+DumpFileName+"-*.partial")
	if err != nil {
		return "", fmt.Errorf("cannot write the dump of backup %s to %s: %w", s.path, dir, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	er := newEntryReader(s.ctx, s.tr, e.size)
	if _, err := io.Copy(tmp, er); err != nil {
		switch {
		case s.ctx.Err() != nil:
			return "", interrupted(s.path, inEntry(e.name), s.ctx.Err())
		case er.err != nil:
			return "", s.fail(inEntry(e.name), er.err)
		}
		return "", fmt.Errorf("writing the dump to %s: %w (is the disk full?)", tmp.Name(), err)
	}
	// Sync before the rename so that a crash cannot leave a complete name
	// on incomplete data.
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("writing the dump to %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing the dump to %s: %w", tmp.Name(), err)
	}
	final := filepath.Join(dir, DumpFileName)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("moving the dump into place at %s: %w", final, err)
	}
	done = true
	return final, nil
}
