package export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/verify"
)

// versionTable is where Mendix records the model version .metadata
// repeats.
const (
	versionTable  = "mendixsystem$version"
	versionColumn = "modelversion"
	thumbnailKind = "System.Thumbnail"
)

// dumpResult is what writing db/db.backup learned on the way.
type dumpResult struct {
	Size     int64
	Rows     map[string]int64
	Duration time.Duration
	// Blobs are the UUIDs of the file documents whose contents the
	// backup must hold (hascontents, or a thumbnail), read from the same
	// rows that went into the dump.
	Blobs        []string
	ModelVersion string
}

// dumpOptions steer writeDump.
type dumpOptions struct {
	Jobs        int
	SpillDir    string
	FileTable   verify.FileTable
	DumpVersion string
	Compression pgdump.Compression
	Level       int
}

// writeDump writes the database as a custom-format archive to f (a file,
// so that the table of contents gets the blocks' offsets). Tables are read
// jobs at a time: each is compressed into a spill file of its own and
// appended whole, since a block must be contiguous; the archive allows the
// blocks in any order.
func writeDump(ctx context.Context, sess dbcopy.ExportSession, f *os.File, opts dumpOptions) (*dumpResult, error) {
	start := time.Now()
	s := sess.Schema()
	entries, data, err := toc(s)
	if err != nil {
		return nil, err
	}
	w, err := pgdump.NewWriter(f, entries, pgdump.WriterOptions{
		VersionMinor: 14, Compression: opts.Compression, Level: opts.Level,
		Created: start, DatabaseName: s.DatabaseName, ServerVersion: s.ServerVersion, DumpVersion: opts.DumpVersion,
	})
	if err != nil {
		return nil, err
	}
	res := &dumpResult{Rows: map[string]int64{}}
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan tableData)
	errs := make(chan error, opts.Jobs)
	var wg sync.WaitGroup
	for range opts.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for td := range work {
				rows, found, err := dumpTable(ctx, sess, w, td, opts)
				if err != nil {
					errs <- err
					cancel()
					return
				}
				mu.Lock()
				res.Rows[td.table.Name] = rows
				res.Blobs = append(res.Blobs, found.blobs...)
				if found.modelVersion != "" {
					res.ModelVersion = found.modelVersion
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, td := range data {
		select {
		case work <- td:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	res.Size, res.Duration = end, time.Since(start)
	return res, nil
}

// found is what the rows of a table said about blobs and the model.
type found struct {
	blobs        []string
	modelVersion string
}

// dumpTable copies one table into a spill file as an encoded block, then
// appends the block to the archive.
func dumpTable(ctx context.Context, sess dbcopy.ExportSession, w *pgdump.Writer, td tableData, opts dumpOptions) (int64, found, error) {
	spill, err := os.CreateTemp(opts.SpillDir, "block-*")
	if err != nil {
		return 0, found{}, fmt.Errorf("spill file for table %s: %w", td.table.Name, err)
	}
	defer func() {
		spill.Close()
		os.Remove(spill.Name())
	}()
	buf := bufio.NewWriterSize(spill, 256<<10)
	enc, err := pgdump.NewBlockEncoder(buf, td.dumpID, opts.Compression, opts.Level, 0)
	if err != nil {
		return 0, found{}, err
	}
	var out io.Writer = enc
	var watcher *rowWatcher
	if cols := watchedColumns(td, opts.FileTable); cols != nil {
		watcher = newRowWatcher(cols)
		out = io.MultiWriter(enc, watcher.pw)
	}
	rows, err := sess.CopyTable(ctx, td.table.Name, out)
	var f found
	if watcher != nil {
		f, err = watcher.finish(err)
	}
	if err != nil {
		return 0, found{}, err
	}
	if _, err := io.WriteString(enc, pgdump.CopyTrailer); err != nil {
		return 0, found{}, fmt.Errorf("compress table %s: %w", td.table.Name, err)
	}
	if err := enc.Close(); err != nil {
		return 0, found{}, fmt.Errorf("compress table %s: %w", td.table.Name, err)
	}
	if err := buf.Flush(); err != nil {
		return 0, found{}, fmt.Errorf("spill table %s to %s: %w", td.table.Name, filepath.Dir(spill.Name()), err)
	}
	if _, err := spill.Seek(0, io.SeekStart); err != nil {
		return 0, found{}, err
	}
	if err := w.AppendBlock(td.dumpID, spill); err != nil {
		return 0, found{}, err
	}
	return rows, f, nil
}

// watched says which columns of a table the export reads as they pass.
type watched struct {
	key, hasContents, kind int // file documents; -1 when absent
	modelVersion           int // mendixsystem$version
}

func watchedColumns(td tableData, ft verify.FileTable) *watched {
	index := func(name string) int {
		for i, c := range copyColumns(td.table) {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	switch td.table.Name {
	case ft.Table:
		w := &watched{key: index(ft.KeyColumn), hasContents: index(ft.HasContentsColumn), kind: index(ft.KindColumn), modelVersion: -1}
		if w.key < 0 {
			return nil
		}
		return w
	case versionTable:
		if i := index(versionColumn); i >= 0 {
			return &watched{key: -1, hasContents: -1, kind: -1, modelVersion: i}
		}
	}
	return nil
}

// rowWatcher parses the COPY text of a table while it is written, in a
// goroutine of its own.
type rowWatcher struct {
	cols *watched
	pw   *io.PipeWriter
	done chan struct{}
	res  found
	err  error
}

func newRowWatcher(cols *watched) *rowWatcher {
	pr, pw := io.Pipe()
	rw := &rowWatcher{cols: cols, pw: pw, done: make(chan struct{})}
	go func() {
		defer close(rw.done)
		rw.err = rw.read(pr)
		// Unblock the writer if parsing stopped early.
		pr.CloseWithError(errors.New("row watcher stopped"))
	}()
	return rw
}

func (rw *rowWatcher) read(r io.Reader) error {
	cr := pgdump.NewCopyReader(r)
	field := func(row []pgdump.Field, i int) (string, bool) {
		if i < 0 || i >= len(row) || row[i].Null {
			return "", false
		}
		return string(row[i].Value), true
	}
	for {
		row, err := cr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if v, ok := field(row, rw.cols.modelVersion); ok {
			rw.res.modelVersion = v
		}
		key, ok := field(row, rw.cols.key)
		if !ok || key == "" {
			continue
		}
		has, _ := field(row, rw.cols.hasContents)
		kind, _ := field(row, rw.cols.kind)
		if has == "t" || kind == thumbnailKind {
			rw.res.blobs = append(rw.res.blobs, key)
		}
	}
}

// finish ends the stream with the copy's outcome and returns what was
// found, or the first error.
func (rw *rowWatcher) finish(copyErr error) (found, error) {
	if copyErr != nil {
		rw.pw.CloseWithError(copyErr)
	} else {
		rw.pw.Close()
	}
	<-rw.done
	if copyErr != nil {
		return found{}, copyErr
	}
	if rw.err != nil {
		return found{}, fmt.Errorf("read the rows as they were exported: %w", rw.err)
	}
	return rw.res, nil
}
