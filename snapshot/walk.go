package snapshot

import (
	"context"
	"fmt"
	"io"

	"github.com/mxmigrate/mxmigrate/internal/escape"
)

// maxMetadataSize guards against reading a huge entry into memory just
// because it is called .metadata; the real one is about 100 bytes.
const maxMetadataSize = 1 << 20

// walker holds the state of one Walk. Its dispatch is shared by the tar
// and the folder readers; each supplies readFailure, which turns an error
// reading an entry's bytes into a message that fits its source.
type walker struct {
	b           *Backup
	v           Visitor
	sum         *Summary
	seen        map[[16]byte]struct{}
	sawMetadata bool
	// links are hard links to blobs, by the name of the entry that holds
	// their bytes; resolved by a second pass once the stream has ended.
	links       map[string][]entryLink
	linkCount   int
	readFailure func(where string, err error) error
}

func newWalker(b *Backup, v Visitor) *walker {
	return &walker{
		b:    b,
		v:    v,
		sum:  &Summary{Kind: b.kind, Path: b.path},
		seen: map[[16]byte]struct{}{},
	}
}

// opener gives an entry's bytes; it is only called when they are needed.
type opener func() (io.ReadCloser, error)

func (w *walker) visit(ctx context.Context, e entry, open opener) error {
	p := place(e)
	switch p.role {
	case roleAnomaly:
		w.anomaly(e.name, p.problem)
	case roleMetadata:
		return w.metadata(ctx, e, open)
	case roleDump:
		return w.dump(ctx, e, open)
	case roleBlob:
		if p.problem != "" {
			w.anomaly(e.name, p.problem)
		}
		return w.blob(ctx, e, p.uuid, open)
	case roleLinkedBlob:
		w.link(e, p)
	}
	return nil
}

// entryLink is a hard link whose bytes are those of another entry.
type entryLink struct {
	name string
	uuid string
}

// maxPendingLinks bounds the memory that hard links awaiting their second
// pass take (about 100 bytes each).
const maxPendingLinks = 100_000

// link remembers a hard link to a blob for the second pass.
func (w *walker) link(e entry, p placement) {
	key := uuidKey(p.uuid)
	if _, dup := w.seen[key]; dup {
		w.anomaly(e.name, fmt.Sprintf("duplicate blob %s; only the first copy is used", p.uuid))
		return
	}
	if w.linkCount >= maxPendingLinks {
		w.anomaly(e.name, fmt.Sprintf("hard link to %q beyond the first %d hard links; not uploaded", e.link, maxPendingLinks))
		return
	}
	w.seen[key] = struct{}{}
	if p.problem != "" {
		w.anomaly(e.name, p.problem)
	}
	if w.links == nil {
		w.links = map[string][]entryLink{}
	}
	target := trimDotSlash(e.link)
	w.links[target] = append(w.links[target], entryLink{name: e.name, uuid: p.uuid})
	w.linkCount++
}

func (w *walker) anomaly(entry, problem string) {
	a := Anomaly{Entry: entry, Problem: problem}
	w.sum.AnomalyCount++
	if len(w.sum.Anomalies) < MaxStoredAnomalies {
		w.sum.Anomalies = append(w.sum.Anomalies, a)
	}
	if w.v.Anomaly != nil {
		w.v.Anomaly(a)
	}
}

// metadata reads .metadata. Bad metadata is only an anomaly: the database
// and the files can still move without it.
func (w *walker) metadata(ctx context.Context, e entry, open opener) error {
	if w.sawMetadata {
		w.anomaly(e.name, "second .metadata; only the first is used")
		return nil
	}
	w.sawMetadata = true
	if e.size > maxMetadataSize {
		w.anomaly(e.name, fmt.Sprintf("%d bytes, too large to be backup metadata; ignored", e.size))
		return nil
	}
	var data []byte
	err := w.deliver(ctx, e, open, func(r io.Reader) (err error) {
		data, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		return err
	}
	m, err := ParseMetadata(data)
	if err != nil {
		w.anomaly(e.name, fmt.Sprintf("unreadable, continuing without it: %v", err))
		return nil
	}
	w.sum.Metadata = &m
	if w.v.Metadata != nil {
		if err := w.v.Metadata(m); err != nil {
			return w.callbackFailed(e.name, err)
		}
	}
	return nil
}

func (w *walker) dump(ctx context.Context, e entry, open opener) error {
	if w.sum.HasDump {
		return ambiguousDump(w.b.path, w.sum.DumpEntry, e.name)
	}
	w.sum.HasDump, w.sum.DumpEntry, w.sum.DumpSize = true, e.name, e.size
	if w.v.Dump == nil {
		return nil
	}
	return w.deliver(ctx, e, open, func(r io.Reader) error {
		return w.v.Dump(ctx, r, e.size)
	})
}

func (w *walker) blob(ctx context.Context, e entry, uuid string, open opener) error {
	key := uuidKey(uuid)
	if _, dup := w.seen[key]; dup {
		w.anomaly(e.name, fmt.Sprintf("duplicate blob %s; only the first copy is used", uuid))
		return nil
	}
	w.seen[key] = struct{}{}
	if e.sparse {
		// Mendix never writes sparse files; a few stored bytes can claim
		// any size. It moves (its expanded size is its size), named.
		w.anomaly(e.name, fmt.Sprintf("sparse entry expanding to %d bytes; Mendix does not write sparse files: check this blob", e.size))
	}
	return w.deliverBlob(ctx, e, uuid, open)
}

// deliverBlob hands a blob's bytes to the visitor and counts it.
func (w *walker) deliverBlob(ctx context.Context, e entry, uuid string, open opener) error {
	if w.v.Blob != nil {
		b := Blob{UUID: uuid, Entry: e.name, Size: e.size}
		err := w.deliver(ctx, e, open, func(r io.Reader) error {
			return w.v.Blob(ctx, b, r)
		})
		if err != nil {
			return err
		}
	}
	w.sum.Blobs++
	w.sum.BlobBytes += e.size
	return nil
}

// deliver hands an entry's bytes to use, then reads past whatever use left
// unread, so the entry's size and the stream's integrity are checked
// whether or not the callback read to the end. It tells a broken backup,
// a cancellation and a failed callback apart.
func (w *walker) deliver(ctx context.Context, e entry, open opener, use func(io.Reader) error) error {
	rc, err := open()
	if err != nil {
		return w.readFailure(inEntry(e.name), err)
	}
	defer rc.Close()
	er := newEntryReader(ctx, rc, e.size)
	err = use(er)
	if err == nil {
		_, err = io.Copy(io.Discard, er)
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return interrupted(w.b.path, inEntry(e.name), ctx.Err())
	case er.err != nil:
		return w.readFailure(inEntry(e.name), er.err)
	}
	return w.callbackFailed(e.name, err)
}

func (w *walker) callbackFailed(entry string, err error) error {
	return fmt.Errorf("backup %s: %s: %w", w.b.path, escape.Text(entry), err)
}

// checkComplete runs after a full snapshot or folder was read to the end.
func (w *walker) checkComplete() error {
	if !w.sawMetadata {
		w.anomaly(metadataEntry, "missing; the sizes Mendix recorded cannot be compared")
	}
	if !w.sum.HasDump {
		return missingDump(w.b.path)
	}
	return nil
}
