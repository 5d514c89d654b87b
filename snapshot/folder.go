package snapshot

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// walkFolder reads an extracted full snapshot. filepath.WalkDir visits in
// lexical order (.metadata, then db/, then tree/) and never follows
// symlinks; the layout checks are the same as for a tar.
func (w *walker) walkFolder(ctx context.Context) error {
	// The folder itself may be reached through a symlink; entries inside
	// it may not.
	root, err := filepath.EvalSymlinks(w.b.path)
	if err != nil {
		return fmt.Errorf("backup folder %s: %w", w.b.path, err)
	}
	w.readFailure = func(where string, err error) error {
		return fmt.Errorf("backup folder %s: reading failed %s: %w; check the folder's permissions and that nothing writes to it", w.b.path, where, err)
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		name, nameErr := entryName(root, path, filepath.Separator)
		if nameErr != nil {
			return nameErr
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return interrupted(w.b.path, "at "+name, ctxErr)
		}
		if err != nil {
			return fmt.Errorf("backup folder %s: cannot read %s: %w", w.b.path, name, err)
		}
		if name == "." {
			return nil
		}
		e, err := folderEntry(path, name, d)
		if err != nil {
			return fmt.Errorf("backup folder %s: %s: %w", w.b.path, name, err)
		}
		return w.visit(ctx, e, func() (io.ReadCloser, error) { return os.Open(path) })
	})
}

// entryName turns the local path of an entry below root (as WalkDir gives
// it: root, sep, the rest) into the name the same entry has in a tar of the
// backup: relative, with "/" between its parts whatever the platform's
// separator sep is (`\` on Windows). On Unix a `\` is part of a file name
// and stays (unsafePath reports one that could climb out). Plain string
// work, so that the Windows form is tested on every platform.
func entryName(root, path string, sep byte) (string, error) {
	if path == root {
		return ".", nil
	}
	prefix := root
	if !strings.HasSuffix(prefix, string(sep)) {
		prefix += string(sep)
	}
	rel, ok := strings.CutPrefix(path, prefix)
	if !ok || rel == "" {
		return "", fmt.Errorf("backup folder %s: %s is not inside it", root, path)
	}
	if sep != '/' {
		rel = strings.ReplaceAll(rel, string(sep), "/")
	}
	return rel, nil
}

// folderEntry describes a directory entry in the terms place understands.
func folderEntry(path, name string, d fs.DirEntry) (entry, error) {
	e := entry{name: name}
	mode := d.Type()
	switch {
	case mode == 0:
		e.typ = typeRegular
		info, err := d.Info()
		if err != nil {
			return e, err
		}
		e.size = info.Size()
	case mode&fs.ModeDir != 0:
		e.typ = typeDir
	case mode&fs.ModeSymlink != 0:
		e.typ = typeSymlink
		e.link, _ = os.Readlink(path) // only used in the message
	case mode&fs.ModeDevice != 0:
		e.typ = typeDevice
	case mode&fs.ModeNamedPipe != 0:
		e.typ = typeFifo
	default:
		e.typ, e.kind = typeOther, mode.String()
	}
	return e, nil
}

// walkBare hands a database-only backup to Dump as a whole.
func (w *walker) walkBare(ctx context.Context) error {
	f, err := os.Open(w.b.path)
	if err != nil {
		return fmt.Errorf("backup %s: %w", w.b.path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup %s: %w", w.b.path, err)
	}
	w.readFailure = func(where string, err error) error {
		return fmt.Errorf("reading backup %s failed: %w", w.b.path, err)
	}
	e := entry{name: filepath.Base(w.b.path), typ: typeRegular, size: info.Size()}
	return w.dump(ctx, e, func() (io.ReadCloser, error) { return io.NopCloser(f), nil })
}
