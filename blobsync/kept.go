package blobsync

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
)

// keptListing is the store's listing kept on disk, one record per object
// (key length and size as varints, which digest follows, the digest, the
// key), so that memory stays flat however many objects the store holds.
// The index of a complete listing points into it by offset, so a worker
// reads one object's listed size and MD5 back without a request.
type keptListing struct {
	file    *os.File
	w       *bufio.Writer
	written int64 // bytes added so far: the offset of the next record
	objects int
	err     error // why the listing is incomplete; nil when it is whole
}

// The digest a record carries: ObjectInfo.MD5, ObjectInfo.MaybeMD5, or none.
const (
	keptNoDigest byte = iota
	keptMD5
	keptMaybeMD5
)

// maxKeptHeader is the longest record before its key.
const maxKeptHeader = 2*binary.MaxVarintLen64 + 1 + md5.Size

func newKeptListing(dir string) (*keptListing, error) {
	f, err := os.CreateTemp(dir, "store-listing-*")
	if err != nil {
		return nil, err
	}
	return &keptListing{file: f, w: bufio.NewWriter(f)}, nil
}

// add appends info and returns the offset of its record.
func (k *keptListing) add(info ObjectInfo) (int64, error) {
	var buf [maxKeptHeader]byte
	n := binary.PutUvarint(buf[:], uint64(len(info.Key)))
	n += binary.PutVarint(buf[n:], info.Size)
	switch {
	case len(info.MD5) == md5.Size:
		buf[n] = keptMD5
		n += 1 + copy(buf[n+1:], info.MD5)
	case len(info.MaybeMD5) == md5.Size:
		buf[n] = keptMaybeMD5
		n += 1 + copy(buf[n+1:], info.MaybeMD5)
	default:
		buf[n] = keptNoDigest
		n++
	}
	if _, err := k.w.Write(buf[:n]); err != nil {
		return 0, err
	}
	if _, err := k.w.WriteString(info.Key); err != nil {
		return 0, err
	}
	at := k.written
	k.written += int64(n + len(info.Key))
	k.objects++
	return at, nil
}

func (k *keptListing) finish(listErr error) {
	k.err = listErr
	if err := k.w.Flush(); err != nil && k.err == nil {
		k.err = err
	}
}

// readRecord decodes one record from r.
func readRecord(r *bufio.Reader) (ObjectInfo, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return ObjectInfo{}, err
	}
	size, err := binary.ReadVarint(r)
	if err != nil {
		return ObjectInfo{}, err
	}
	kind, err := r.ReadByte()
	if err != nil {
		return ObjectInfo{}, err
	}
	info := ObjectInfo{Size: size}
	if kind != keptNoDigest {
		sum := make([]byte, md5.Size)
		if _, err := io.ReadFull(r, sum); err != nil {
			return ObjectInfo{}, err
		}
		if kind == keptMD5 {
			info.MD5 = sum
		} else {
			info.MaybeMD5 = sum
		}
	}
	key := make([]byte, n)
	if _, err := io.ReadFull(r, key); err != nil {
		return ObjectInfo{}, err
	}
	info.Key = string(key)
	return info, nil
}

// at reads back the record add put at offset off, after finish. Safe for
// concurrent use (it reads with ReadAt).
func (k *keptListing) at(off int64) (ObjectInfo, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(k.file, off, k.written-off), 128)
	info, err := readRecord(r)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("read the kept listing: %w", err)
	}
	return info, nil
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
		info, err := readRecord(r)
		if err != nil {
			return fmt.Errorf("read the kept listing: %w", err)
		}
		if err := fn(info); err != nil {
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
