package blobsync

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
)

// Listing is one whole listing of a store kept on disk (key, size and
// digest of each object) with an index of 16 bytes an object in memory,
// for a caller that must look objects up by key and then learn which ones
// it never asked for: verification after an upload. Mark and Unmarked are
// not safe for concurrent use.
type Listing struct {
	store  string
	kept   *keptListing
	index  *keyIndex
	marked []uint64 // a bit per index entry
}

// ListToDisk lists store once, keeping the listing in a file under dir
// (os.TempDir() when empty). Close removes the file.
func ListToDisk(ctx context.Context, store Store, dir string) (*Listing, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	kept, err := newKeptListing(dir)
	if err != nil {
		return nil, fmt.Errorf("keep the listing of %s: %w", store, err)
	}
	x := &keyIndex{seed: maphash.MakeSeed(), kept: kept}
	err = store.List(ctx, func(info ObjectInfo) error {
		at, err := kept.add(info)
		if err != nil {
			return err
		}
		x.add(info.Key, at)
		return nil
	})
	kept.finish(err)
	if kept.err != nil {
		kept.remove()
		return nil, fmt.Errorf("list %s: %w", store, kept.err)
	}
	x.sort()
	return &Listing{store: store.String(), kept: kept, index: x, marked: make([]uint64, (len(x.entries)+63)/64)}, nil
}

// Len is the number of objects listed.
func (l *Listing) Len() int { return len(l.index.entries) }

// Mark looks key up and, when the listing holds it, marks it as asked for
// and returns what the listing said about it.
func (l *Listing) Mark(key string) (ObjectInfo, bool, error) {
	i, info, found, err := l.index.position(key)
	if err != nil {
		return ObjectInfo{}, false, fmt.Errorf("listing of %s: %w", l.store, err)
	}
	if found {
		l.marked[i/64] |= 1 << (i % 64)
	}
	return info, found, nil
}

// Unmarked calls fn for every listed object that Mark was not asked for,
// in an order of its own.
func (l *Listing) Unmarked(ctx context.Context, fn func(ObjectInfo) error) error {
	if l.kept.file == nil {
		return errors.New("blobsync: Listing used after Close")
	}
	for i, e := range l.index.entries {
		if l.marked[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		info, err := l.kept.at(e.at)
		if err != nil {
			return fmt.Errorf("listing of %s: %w", l.store, err)
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Close removes the listing's file.
func (l *Listing) Close() { l.kept.remove() }
