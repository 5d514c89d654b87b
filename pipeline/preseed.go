package pipeline

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/runbook"
	"github.com/mxmigrate/mxmigrate/snapshot"
)

// storedObject is one UUID-named object of the store under the prefix, as
// plan keeps it: 16 bytes of UUID, the size, whether the backup holds it.
type storedObject struct {
	id   [16]byte
	size int64
	held bool
}

// storeListing is the store's one listing, compact enough for hundreds of
// thousands of objects (about 32 bytes each); other objects are counted.
type storeListing struct {
	prefix, suffix string
	objects        []storedObject // sorted by id
	others         int
}

// listStore lists the store once for plan.
func listStore(ctx context.Context, store blobsync.Store, prefix, suffix string) (*storeListing, error) {
	l := &storeListing{prefix: prefix, suffix: suffix}
	err := store.List(ctx, func(o blobsync.ObjectInfo) error {
		id, ok := parseUUID(pruneUUID(o.Key, prefix, suffix))
		if !ok {
			l.others++
			return nil
		}
		l.objects = append(l.objects, storedObject{id: id, size: o.Size})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(l.objects, func(a, b storedObject) int { return bytes.Compare(a.id[:], b.id[:]) })
	return l, nil
}

func parseUUID(s string) (id [16]byte, ok bool) {
	if s == "" {
		return id, false
	}
	_, err := hex.Decode(id[:], []byte(strings.ReplaceAll(s, "-", "")))
	return id, err == nil
}

func formatUUID(id [16]byte) string {
	h := hex.EncodeToString(id[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// blob records a blob of the backup: stored already when the store holds
// an object of its size under its key.
func (l *storeListing) blob(f *runbook.StoreFacts, b snapshot.Blob) {
	id, ok := parseUUID(strings.ToLower(b.UUID))
	if !ok {
		return
	}
	i, found := slices.BinarySearchFunc(l.objects, id, func(o storedObject, id [16]byte) int { return bytes.Compare(o.id[:], id[:]) })
	if !found {
		return
	}
	l.objects[i].held = true
	if l.objects[i].size == b.Size {
		f.Present++
		f.PresentBytes += b.Size
	}
}

// maxPruneShown bounds the keys plan lists as prune candidates.
const maxPruneShown = 1000

// finish counts what the store holds that the backup does not.
func (l *storeListing) finish(f *runbook.StoreFacts) {
	f.Listed = true
	f.Objects = len(l.objects) + l.others
	f.NotInBackup = l.others
	for _, o := range l.objects {
		if o.held {
			continue
		}
		f.NotInBackup++
		f.PruneCandidates++
		if len(f.PruneKeys) < maxPruneShown {
			f.PruneKeys = append(f.PruneKeys, l.prefix+formatUUID(o.id)+l.suffix)
		}
	}
}

// storeFactsText is plan's paragraph on what the store holds already.
func storeFactsText(f runbook.StoreFacts) string {
	if !f.Listed {
		return ""
	}
	return fmt.Sprintf("store     %d objects: %d of the backup's files already there (%d bytes); %d the backup does not hold, %d of them UUID-named (migrate --prune deletes those no file document names)",
		f.Objects, f.Present, f.PresentBytes, f.NotInBackup, f.PruneCandidates)
}
