package export

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/mxmigrate/mxmigrate/blobsync"
)

// metadata is .metadata as Mendix writes it: every value a string, in
// Mendix's key order.
type metadata struct {
	Duration     string `json:"duration"`
	DumpSize     string `json:"dumpSize"`
	ModelVersion string `json:"modelVersion"`
	DatabaseSize string `json:"databaseSize"`
	FilesSize    string `json:"filesSize"`
}

// writeTarball writes the full-snapshot layout: .metadata, db/db.backup,
// then tree/xx/yy/<uuid> for every blob, in the order downloads finish
// (a tar has no index: any order reads the same).
func writeTarball(ctx context.Context, out io.Writer, meta metadata, dump io.Reader, dumpSize int64,
	store blobsync.Store, blobs []blob, opts Options) error {
	bw := bufio.NewWriterSize(out, 256<<10)
	gz, err := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	now := time.Now().Truncate(time.Second)
	t := &tarball{tw: tw, now: now, dirs: map[string]bool{}}

	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := t.file(".metadata", int64(len(metaJSON)), bytes.NewReader(metaJSON)); err != nil {
		return err
	}
	if err := t.file("db/db.backup", dumpSize, dump); err != nil {
		return err
	}
	if err := t.dir("tree/"); err != nil {
		return err
	}
	if err := copyBlobs(ctx, t, store, blobs, opts); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write the backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("write the backup: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write the backup: %w", err)
	}
	return nil
}

type tarball struct {
	tw   *tar.Writer
	now  time.Time
	dirs map[string]bool
}

func (t *tarball) dir(name string) error {
	if t.dirs[name] {
		return nil
	}
	t.dirs[name] = true
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: t.now, Format: tar.FormatPAX})
}

// file writes one regular file, with its parent folders first.
func (t *tarball) file(name string, size int64, r io.Reader) error {
	if err := t.parents(name); err != nil {
		return err
	}
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: t.now, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("write the backup: %w", err)
	}
	n, err := io.Copy(t.tw, r)
	if err != nil {
		return fmt.Errorf("write %s into the backup: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("write %s into the backup: %d bytes, expected %d", name, n, size)
	}
	return nil
}

// parents writes the folders above name that are not written yet,
// outermost first.
func (t *tarball) parents(name string) error {
	var missing []string
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		if t.dirs[d+"/"] {
			break
		}
		missing = append(missing, d+"/")
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := t.dir(missing[i]); err != nil {
			return err
		}
	}
	return nil
}

// fetched is a downloaded blob, in memory or in a spill file.
type fetched struct {
	blob  blob
	data  []byte
	spill *os.File
}

func (f *fetched) reader() io.Reader {
	if f.spill != nil {
		return f.spill
	}
	return bytes.NewReader(f.data)
}

func (f *fetched) release() {
	if f.spill != nil {
		f.spill.Close()
		os.Remove(f.spill.Name())
	}
}

// copyBlobs downloads Transfers blobs at a time and writes each into the
// tar as it arrives. A blob smaller than MemoryBudget/Transfers waits in
// memory, a larger one in a spill file, so memory stays bounded.
func copyBlobs(ctx context.Context, t *tarball, store blobsync.Store, blobs []blob, opts Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inMemory := opts.MemoryBudget / int64(opts.Transfers)
	work := make(chan blob)
	done := make(chan *fetched)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return firstErr
	}
	for range opts.Transfers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				f, err := fetch(ctx, store, b, opts.FileTable.Prefix+b.uuid+opts.FileTable.Suffix, inMemory, opts.WorkDir)
				if err != nil {
					fail(err)
					return
				}
				select {
				case done <- f:
				case <-ctx.Done():
					f.release()
					return
				}
			}
		}()
	}
	go func() {
		defer close(work)
		for _, b := range blobs {
			if b.size < 0 {
				continue
			}
			select {
			case work <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(done)
	}()
	for f := range done {
		if failed() != nil {
			f.release()
			continue
		}
		u := f.blob.uuid
		name := path.Join("tree", u[0:2], u[2:4], u)
		if err := t.file(name, f.blob.size, f.reader()); err != nil {
			fail(err)
		}
		f.release()
	}
	if err := failed(); err != nil {
		return err
	}
	return ctx.Err()
}

// fetch downloads one object and checks that it still has the size the
// listing gave (which the tar header already promises).
func fetch(ctx context.Context, store blobsync.Store, b blob, key string, inMemory int64, spillDir string) (*fetched, error) {
	r, err := store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("download %s from %s: %w", key, store, err)
	}
	defer r.Close()
	f := &fetched{blob: b}
	var n int64
	if b.size <= inMemory {
		f.data = make([]byte, 0, b.size)
		buf := bytes.NewBuffer(f.data)
		n, err = io.Copy(buf, io.LimitReader(r, b.size+1))
		f.data = buf.Bytes()
	} else {
		if f.spill, err = os.CreateTemp(spillDir, "blob-*"); err != nil {
			return nil, err
		}
		n, err = io.Copy(f.spill, io.LimitReader(r, b.size+1))
		if err == nil {
			_, err = f.spill.Seek(0, io.SeekStart)
		}
	}
	if err != nil {
		f.release()
		return nil, fmt.Errorf("download %s from %s: %w", key, store, err)
	}
	if n != b.size {
		f.release()
		return nil, fmt.Errorf("object %s in %s %w: %d bytes when listed, %d when read; stop the app and export again", key, store, errChanged, b.size, n)
	}
	return f, nil
}
