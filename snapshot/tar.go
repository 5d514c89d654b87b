package snapshot

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// readBufferSize is large so that reading a multi-gigabyte backup costs
// few system calls.
const readBufferSize = 1 << 20

// tarStream is a full snapshot opened for one sequential pass:
// file -> ctx check -> buffer -> gzip (unless a plain tar) -> tar.
type tarStream struct {
	ctx  context.Context
	path string
	file *os.File
	gz   *gzip.Reader // nil for a plain tar
	tr   *tar.Reader
	last string // name of the last header read, for error messages
}

func openTarStream(ctx context.Context, b *Backup) (*tarStream, error) {
	f, err := os.Open(b.path)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", b.path, err)
	}
	s := &tarStream{ctx: ctx, path: b.path, file: f}
	var r io.Reader = bufio.NewReaderSize(ctxReader{ctx: ctx, r: f}, readBufferSize)
	if b.compressed {
		gz, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			return nil, s.fail(beforeFirstEntry, err)
		}
		s.gz, r = gz, gz
	}
	s.tr = tar.NewReader(r)
	return s, nil
}

func (s *tarStream) close() { s.file.Close() }

// next returns the next header, io.EOF at the end of the archive, or an
// error already phrased for the operator.
func (s *tarStream) next() (*tar.Header, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, interrupted(s.path, s.where(), err)
	}
	hdr, err := s.tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		if s.last == "" && errors.Is(err, tar.ErrHeader) && s.ctx.Err() == nil {
			return nil, notATar(s.path, err)
		}
		return nil, s.fail(s.where(), err)
	}
	s.last = hdr.Name
	return hdr, nil
}

func (s *tarStream) where() string {
	if s.last == "" {
		return beforeFirstEntry
	}
	return afterEntry(s.last)
}

// finish reads what follows the tar's end marker, so that gzip checks its
// trailer (CRC and length): corruption the inflater cannot see is only
// found there. It reports whether bytes that are not gzip follow the
// verified stream (padding some tools add), which is harmless.
func (s *tarStream) finish() (trailingData bool, err error) {
	if s.gz == nil {
		return false, nil
	}
	// Read only: the gzip reader's WriteTo must not take over a member
	// that was partly consumed through Read.
	_, err = io.Copy(io.Discard, struct{ io.Reader }{s.gz})
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, gzip.ErrHeader) && s.ctx.Err() == nil:
		return true, nil // the reader looked for another member after a verified one
	}
	return false, s.fail(s.where(), err)
}

// fail classifies an error reading the stream: a cancellation, a failing
// disk, or a broken backup.
func (s *tarStream) fail(where string, err error) error {
	if ctxErr := s.ctx.Err(); ctxErr != nil {
		return interrupted(s.path, where, ctxErr)
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Errorf("reading backup %s (%s): %w", s.path, where, err)
	}
	return corrupt(s.path, where, err)
}

// tarEntry describes a tar header in the terms place understands.
func tarEntry(h *tar.Header) entry {
	e := entry{name: h.Name, size: h.Size, link: h.Linkname, sparse: h.Typeflag == tar.TypeGNUSparse}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			e.sparse = true
		}
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse: // tar.Reader expands sparse files
		e.typ = typeRegular
	case tar.TypeDir:
		e.typ = typeDir
	case tar.TypeSymlink:
		e.typ = typeSymlink
	case tar.TypeLink:
		e.typ = typeHardlink
	case tar.TypeChar, tar.TypeBlock:
		e.typ = typeDevice
	case tar.TypeFifo:
		e.typ = typeFifo
	case tar.TypeXGlobalHeader:
		e.typ = typeArchiveHeader
	default:
		e.typ, e.kind = typeOther, fmt.Sprintf("tar type %q", h.Typeflag)
	}
	return e
}

// walkTar reads a full snapshot from its tar stream.
func (w *walker) walkTar(ctx context.Context) error {
	s, err := openTarStream(ctx, w.b)
	if err != nil {
		return err
	}
	defer s.close()
	w.readFailure = s.fail
	current := func() (io.ReadCloser, error) { return io.NopCloser(s.tr), nil }
	for {
		hdr, err := s.next()
		if errors.Is(err, io.EOF) {
			trailingData, err := s.finish()
			if trailingData {
				w.anomaly(afterArchive, "data after the end of the compressed archive; ignored")
			}
			if err != nil {
				return err
			}
			return w.resolveLinks(ctx)
		}
		if err != nil {
			return err
		}
		if err := w.visit(ctx, tarEntry(hdr), current); err != nil {
			return err
		}
	}
}

// resolveLinks reads the tar a second time for the entries that hard links
// to blobs point to, and delivers each link as a blob with its target's
// bytes. Only the link targets are read; a target shared by several links
// is spooled to a temporary file once.
func (w *walker) resolveLinks(ctx context.Context) error {
	if len(w.links) == 0 {
		return nil
	}
	s, err := openTarStream(ctx, w.b)
	if err != nil {
		return err
	}
	defer s.close()
	w.readFailure = s.fail
	for len(w.links) > 0 {
		hdr, err := s.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := trimDotSlash(hdr.Name)
		links, ok := w.links[name]
		if !ok {
			continue
		}
		delete(w.links, name)
		target := tarEntry(hdr)
		if target.typ != typeRegular {
			for _, l := range links {
				w.anomaly(l.name, fmt.Sprintf("hard link to %q, which is not a regular file; not uploaded", hdr.Name))
			}
			continue
		}
		if err := w.deliverLinks(ctx, s, target, links); err != nil {
			return err
		}
	}
	for target, links := range w.links {
		for _, l := range links {
			w.anomaly(l.name, fmt.Sprintf("hard link to %q, which the backup does not hold; not uploaded", target))
		}
	}
	w.links = nil
	return nil
}

// deliverLinks delivers the current entry's bytes once for every link.
func (w *walker) deliverLinks(ctx context.Context, s *tarStream, target entry, links []entryLink) error {
	open := func() (io.ReadCloser, error) { return io.NopCloser(s.tr), nil }
	if len(links) > 1 {
		tmp, err := os.CreateTemp("", "mxmigrate-link-*")
		if err != nil {
			return err
		}
		defer func() { tmp.Close(); os.Remove(tmp.Name()) }()
		er := newEntryReader(ctx, s.tr, target.size)
		if _, err := io.Copy(tmp, er); err != nil {
			if er.err != nil {
				return s.fail(inEntry(target.name), er.err)
			}
			return fmt.Errorf("spooling %s for its hard links: %w", target.name, err)
		}
		open = func() (io.ReadCloser, error) {
			if _, err := tmp.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			return io.NopCloser(tmp), nil
		}
	}
	for _, l := range links {
		e := entry{name: l.name, typ: typeRegular, size: target.size}
		if err := w.deliverBlob(ctx, e, l.uuid, open); err != nil {
			return err
		}
	}
	return nil
}
