package blobsync

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
)

// keptListing is the store's listing kept on disk, one record per object
// (key length, key, size as varints), so that memory stays flat however
// many objects the store holds.
type keptListing struct {
	file    *os.File
	w       *bufio.Writer
	objects int
	err     error // why the listing is incomplete; nil when it is whole
}

func newKeptListing(dir string) (*keptListing, error) {
	f, err := os.CreateTemp(dir, "store-listing-*")
	if err != nil {
		return nil, err
	}
	return &keptListing{file: f, w: bufio.NewWriter(f)}, nil
}

func (k *keptListing) add(info ObjectInfo) error {
	var buf [2 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(buf[:], uint64(len(info.Key)))
	n += binary.PutVarint(buf[n:], info.Size)
	if _, err := k.w.Write(buf[:n]); err != nil {
		return err
	}
	if _, err := k.w.WriteString(info.Key); err != nil {
		return err
	}
	k.objects++
	return nil
}

func (k *keptListing) finish(listErr error) {
	k.err = listErr
	if err := k.w.Flush(); err != nil && k.err == nil {
		k.err = err
	}
}

// each calls fn for every kept object, in listing order.
func (k *keptListing) each(ctx context.Context, fn func(ObjectInfo) error) error {
	if _, err := k.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReader(k.file)
	for i := 0; i < k.objects; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("read the kept listing: %w", err)
		}
		size, err := binary.ReadVarint(r)
		if err != nil {
			return fmt.Errorf("read the kept listing: %w", err)
		}
		key := make([]byte, n)
		if _, err := io.ReadFull(r, key); err != nil {
			return fmt.Errorf("read the kept listing: %w", err)
		}
		if err := fn(ObjectInfo{Key: string(key), Size: size}); err != nil {
			return err
		}
	}
	return nil
}

func (k *keptListing) remove() {
	if k != nil && k.file != nil {
		k.file.Close()
		os.Remove(k.file.Name())
		k.file = nil
	}
}

// ErrNoListing is StoreOnly's error when the run kept no whole listing of
// the store: KeepListing was off, or the listing failed.
var ErrNoListing = errors.New("no complete listing of the store")

// StoreOnly calls fn, after Wait, for every object the store held when the
// run began under a key no Add asked for: the objects the backup no longer
// holds. It needs SyncOptions.KeepListing, and fails with ErrNoListing
// when the listing did not finish. Keys are as the store lists them
// (relative to its prefix, with SyncOptions.Prefix and Suffix). Two keys
// sharing a 64-bit hash make a store-only object look asked for: it is
// then left out, never one asked for put in.
func (s *Syncer) StoreOnly(ctx context.Context, fn func(ObjectInfo) error) error {
	s.Wait()
	if s.kept == nil {
		return ErrNoListing
	}
	if s.kept.err != nil {
		return fmt.Errorf("%w: %v", ErrNoListing, safeText(s.kept.err))
	}
	if s.kept.file == nil {
		return errors.New("blobsync: StoreOnly after Close")
	}
	s.addedMu.Lock()
	slices.Sort(s.added)
	s.addedMu.Unlock()
	return s.kept.each(ctx, func(info ObjectInfo) error {
		if _, asked := slices.BinarySearch(s.added, maphash.String(s.seed, info.Key)); asked {
			return nil
		}
		return fn(info)
	})
}

// Close removes the kept listing; call it after Wait (and StoreOnly).
func (s *Syncer) Close() {
	s.Wait()
	s.kept.remove()
}
