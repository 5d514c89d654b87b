package blobsync

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

func init() { Register(openFileStore, "file") }

// fileStore keeps each object as a plain file named by its key inside one
// folder, so the folder looks like the backup's tree flattened. It writes
// no sidecar files: Stat leaves MD5 nil and callers hash through Open.
type fileStore struct {
	root   string // absolute, cleaned
	closed closeFlag
}

// tempPrefix starts the names of half-written files; keys may not start
// with a dot, so these never collide with an object and List skips them.
const tempPrefix = ".mxmigrate-tmp-"

func openFileStore(ctx context.Context, u *url.URL, opts Options) (Store, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, badInput(fmt.Errorf("file store: remote host %q is not supported; use file:///PATH", u.Host))
	}
	if u.Path == "" {
		return nil, badInput(errors.New("file store: empty path"))
	}
	root, err := filepath.Abs(filepath.FromSlash(u.Path))
	if err != nil {
		return nil, badInput(fmt.Errorf("file store %s: %w", u.Path, err))
	}
	s := &fileStore{root: root}
	info, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist) && opts.Create:
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, fmt.Errorf("%s: create folder: %w", s, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, errMissingLocation(s, "folder", root)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", s, err)
	case !info.IsDir():
		return nil, badInput(fmt.Errorf("%s: not a folder", s))
	}
	return s, nil
}

func (s *fileStore) String() string { return "file://" + filepath.ToSlash(s.root) }

// path maps a key to its file, refusing keys that could leave the folder or
// hide as a temp file.
func (s *fileStore) path(op, key string) (string, error) {
	if err := s.closed.checkCall(s, op, key); err != nil {
		return "", err
	}
	// Dot files are the store's own (temp files); a key cannot name one.
	for part := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(part, ".") {
			return "", badInput(&opError{store: s.String(), op: op, key: key,
				detail: "invalid key: a segment starts with a dot"})
		}
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

func (s *fileStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	path, err := s.path("stat", key)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return ObjectInfo{}, s.wrapErr("stat", key, err)
	}
	if !info.Mode().IsRegular() {
		return ObjectInfo{}, &opError{store: s.String(), op: "stat", key: key, detail: "not a regular file"}
	}
	return ObjectInfo{Key: key, Size: info.Size()}, nil
}

// Put writes a temp file next to the target, syncs it and renames it over
// the key, so an interrupted run never leaves a partial object under the
// real name. The directory itself is not synced: after a crash the rename
// may be lost, which a rerun repairs, but never half-applied. It returns
// the size and MD5 of the bytes it wrote, hashed on the way to the file.
func (s *fileStore) Put(ctx context.Context, key string, p Payload) (_ ObjectInfo, err error) {
	path, err := s.path("put", key)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPrefix+"*")
	if err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := md5.New()
	src := io.NewSectionReader(p, 0, p.Size())
	written, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, src})
	if err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	sum := h.Sum(nil)
	if want := p.MD5(); want != nil && !bytes.Equal(sum, want) {
		return ObjectInfo{}, partsError(s.String(), key, errPayloadMismatch)
	}
	// CreateTemp makes 0600 files; objects should be readable like any
	// other file the user copies into the folder.
	if err := tmp.Chmod(0o644); err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	if err := tmp.Close(); err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	return ObjectInfo{Key: key, Size: written, MD5: sum}, nil
}

func (s *fileStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	path, err := s.path("open", key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, s.wrapErr("open", key, err)
	}
	return f, nil
}

func (s *fileStore) List(ctx context.Context, fn func(ObjectInfo) error) error {
	if err := s.closed.check(s, "list", ""); err != nil {
		return err
	}
	return filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return s.wrapErr("list", "", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == s.root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while listing
		}
		if err != nil {
			return s.wrapErr("list", "", err)
		}
		rel, err := filepath.Rel(s.root, path)
		if err != nil {
			return s.wrapErr("list", "", err)
		}
		return fn(ObjectInfo{Key: filepath.ToSlash(rel), Size: info.Size()})
	})
}

func (s *fileStore) Delete(ctx context.Context, key string) error {
	path, err := s.path("delete", key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.wrapErr("delete", key, err)
	}
	return nil
}

func (s *fileStore) Close() error {
	s.closed.set()
	return nil
}

func (s *fileStore) wrapErr(op, key string, err error) error {
	e := &opError{store: s.String(), op: op, key: key, cause: err}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		e.detail = pathErr.Err.Error() // the path is already in the store name and key
	} else {
		e.detail = err.Error()
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.kind, e.detail = ErrNotExist, ""
	case errors.Is(err, fs.ErrPermission):
		e.kind = ErrAccessDenied
	}
	return e
}

// ctxReader stops a long copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
