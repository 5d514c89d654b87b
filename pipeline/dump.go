package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// The dump is read to its end (its table of contents and every data block,
// as inspect does) before anything is written to any target: a truncated
// or corrupt dump is bad input found before the first write, with the
// message inspect gives, not a pg_restore failure after the blobs were
// uploaded and empty tables created. Where the dump is a file (spooled, or
// a folder's or bare .backup) its blocks are decompressed and counted on
// several cores behind the pass over the stream (readArchive).

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
		// f is written before pw sees the bytes, so every block the
		// pass over pr has passed can be read again from f.
		src, err := describeAndCount(ctx, pr, f)
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
				return err
			}
			return withDumpInPlace(ctx, backup, func(at io.ReaderAt) error {
				src, err = describeAndCount(ctx, r, at)
				return err
			})
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
// that only need to know it is sound. at is as for readArchive.
func checkDump(ctx context.Context, r io.Reader, at io.ReaderAt) error {
	_, err := describeAndCount(ctx, r, at)
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	return err
}

// readArchive reads a dump's table of contents from r and counts every
// table's rows. When at is not nil it holds the dump's bytes (the dump
// file, or a spool written ahead of r): the pass over r then only follows
// the block framing and the blocks are decompressed and counted on several
// cores (pgdump.CountAllRowsAt), with the same counts and errors. A pure
// stream (a tar's dump that is not spooled) is counted in the one pass.
func readArchive(ctx context.Context, r io.Reader, at io.ReaderAt) (*pgdump.Archive, map[int]int64, error) {
	a, err := pgdump.ReadTOC(r)
	if err != nil {
		return nil, nil, err
	}
	var byID map[int]int64
	if at == nil {
		byID, err = a.CountAllRows(ctx, r)
	} else {
		byID, err = a.CountAllRowsAt(ctx, r, at, dumpCheckWorkers())
	}
	return a, byID, err
}

// dumpCheckWorkers is how many dump blocks are decompressed and counted at
// once. The check runs before anything talks to a target, so it is bound
// by the cores rather than by --jobs (which sizes the target's load), and
// by 8: each worker holds a decoder (zstd's may use its 128 MiB window),
// and past that the single framing pass and the disk are the limit.
func dumpCheckWorkers() int { return min(runtime.GOMAXPROCS(0), 8) }

// withDumpInPlace calls use with the dump file of a folder or a bare
// .backup, which Walk streams from where it lies, so that the dump check
// can read its blocks at their offsets; with nil for a tar, whose dump is
// only a stream.
func withDumpInPlace(ctx context.Context, backup *snapshot.Backup, use func(at io.ReaderAt) error) error {
	if backup.Kind() == snapshot.KindFull {
		return use(nil)
	}
	path, _, err := backup.DumpFile(ctx, "")
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return use(f)
}
