package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/snapshot"
)

// The dump is read to its end (its table of contents and every data block,
// as inspect does) before anything is written to any target: a truncated
// or corrupt dump is bad input found before the first write, with the
// message inspect gives, not a pg_restore failure after the blobs were
// uploaded and empty tables created.

// spoolDump copies the dump out of the archive stream into the run folder
// (loaders need a seekable file) and, in the same pass, reads it as inspect
// does: the returned source carries every table's row count and DumpPath.
// A partial copy never sits under the final name, and a dump that does not
// read to its end is removed and returned as the reader's error.
func spoolDump(ctx context.Context, runDir string, r io.Reader) (*dbcopy.Source, error) {
	path := filepath.Join(runDir, "db.backup")
	f, err := os.Create(path + ".partial")
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	type counted struct {
		src *dbcopy.Source
		err error
	}
	done := make(chan counted, 1)
	go func() {
		src, err := describeAndCount(ctx, pr)
		if err == nil {
			// Bytes after the last data block are copied all the same.
			_, err = io.Copy(io.Discard, pr)
		}
		pr.CloseWithError(err) // a failed count stops the copy at once
		done <- counted{src, err}
	}()
	_, copyErr := io.Copy(io.MultiWriter(f, pw), r)
	pw.CloseWithError(copyErr)
	res := <-done
	if cerr := f.Close(); copyErr == nil {
		copyErr = cerr
	}
	if copyErr == nil {
		copyErr = ctx.Err()
	}
	switch {
	case res.err != nil && (copyErr == nil || errors.Is(copyErr, res.err)):
		// The dump itself is broken: name it as inspect does.
		os.Remove(path + ".partial")
		return nil, res.err
	case copyErr != nil:
		os.Remove(path + ".partial")
		return nil, fmt.Errorf("copy the dump to %s: %w", runDir, copyErr)
	}
	if err := os.Rename(path+".partial", path); err != nil {
		return nil, err
	}
	res.src.DumpPath = path
	return res.src, nil
}

// errDumpRead stops a walk once the dump has been read.
var errDumpRead = errors.New("dump read")

// readDump gives the backup's dump as a file and checks all of it before
// anything is written: a tar's dump is spooled into runDir (cleanup
// removes it), a folder's or a bare .backup is read where it is. The walk
// stops at the first blob after the dump: a second dump before it makes the
// backup ambiguous, as for inspect.
func readDump(ctx context.Context, backup *snapshot.Backup, runDir string) (src *dbcopy.Source, cleanup func(), err error) {
	cleanup = func() {}
	_, err = backup.Walk(ctx, snapshot.Visitor{
		Dump: func(ctx context.Context, r io.Reader, _ int64) error {
			var err error
			if backup.Kind() == snapshot.KindFull {
				src, err = spoolDump(ctx, runDir, r)
			} else {
				src, err = describeAndCount(ctx, r)
			}
			return err
		},
		Blob: func(context.Context, snapshot.Blob, io.Reader) error {
			if src != nil {
				return errDumpRead
			}
			return nil
		},
	})
	if errors.Is(err, errDumpRead) {
		err = nil
	}
	if err == nil && src == nil {
		err = errors.New("the backup holds no database dump")
	}
	if err != nil {
		if src != nil && backup.Kind() == snapshot.KindFull {
			os.Remove(src.DumpPath)
		}
		return nil, cleanup, err
	}
	if backup.Kind() == snapshot.KindFull {
		path := src.DumpPath
		return src, func() { os.Remove(path) }, nil
	}
	// A folder's or bare dump is a file already: no copy needed.
	path, _, err := backup.DumpFile(ctx, runDir)
	if err != nil {
		return nil, cleanup, err
	}
	src.DumpPath = path
	return src, cleanup, nil
}

// checkDump reads a dump stream to its end as inspect does, for commands
// that only need to know it is sound.
func checkDump(ctx context.Context, r io.Reader) error {
	_, err := describeAndCount(ctx, r)
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	return err
}
