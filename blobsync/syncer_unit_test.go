package blobsync

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func openTempFileStore(t testing.TB) Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSyncerAddRejects(t *testing.T) {
	store := openTempFileStore(t)
	s := NewSyncer(t.Context(), store, SyncOptions{})
	tests := []struct {
		name, uuid string
		size       int64
		data       string
		want       string
	}{
		{"short read", "a", 10, "abc", "short read"},
		{"empty uuid", "", 1, "x", "blob"},
		{"negative size", "b", -1, "", "size -1"},
	}
	for _, tt := range tests {
		err := s.Add(t.Context(), tt.uuid, tt.size, strings.NewReader(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Add = %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
	res, err := s.Wait()
	if err != nil || res.Uploaded+res.Failed+res.Skipped != 0 {
		t.Fatalf("Wait = %+v, %v; want nothing done", res, err)
	}
	if err := s.Add(t.Context(), "late", 1, strings.NewReader("x")); err == nil {
		t.Error("Add after Wait succeeded")
	}
	if again, err := s.Wait(); err != nil || again.Uploaded != res.Uploaded {
		t.Errorf("second Wait = %+v, %v; want the first answer", again, err)
	}
}

// lossyStore wraps a real store and drops the last byte of the first
// badPuts uploads, as a store that lost part of a write would. With hideMD5
// its Put confirms no MD5, so the Syncer must Stat to find the loss. It
// tests the Syncer's verification, not a store.
type lossyStore struct {
	Store
	badPuts atomic.Int32
	hideMD5 bool
}

func (l *lossyStore) Put(ctx context.Context, key string, p Payload) (ObjectInfo, error) {
	if l.badPuts.Add(-1) >= 0 && p.Size() > 0 {
		data := make([]byte, p.Size()-1)
		if _, err := p.ReadAt(data, 0); err != nil {
			return ObjectInfo{}, err
		}
		p = BytesPayload(data)
	}
	info, err := l.Store.Put(ctx, key, p)
	if l.hideMD5 {
		info.MD5 = nil
	}
	return info, err
}

// misreportingStore stores the bytes faithfully but its Put answers with
// the MD5 of other bytes for the first badPuts uploads, as a store whose
// confirmation disagrees with what was sent would.
type misreportingStore struct {
	Store
	badPuts atomic.Int32
}

func (m *misreportingStore) Put(ctx context.Context, key string, p Payload) (ObjectInfo, error) {
	info, err := m.Store.Put(ctx, key, p)
	if err == nil && m.badPuts.Add(-1) >= 0 {
		info.MD5 = md5Of([]byte("other bytes"))
	}
	return info, err
}

func TestSyncerVerifiesAfterPut(t *testing.T) {
	tests := []struct {
		name         string
		wrap         func(Store, int32) Store
		badPuts      int32
		wantUploaded int
		wantFailed   int
	}{
		{"first put lost, retry repairs", lossy(false), 1, 1, 0},
		{"every put lost, fails", lossy(false), 100, 0, 1},
		{"first put lost unconfirmed, stat finds it, retry repairs", lossy(true), 1, 1, 0},
		{"every put lost unconfirmed, stat finds it, fails", lossy(true), 100, 0, 1},
		{"first put misreported, retry repairs", misreporting, 1, 1, 0},
		{"every put misreported, fails", misreporting, 100, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.wrap(openTempFileStore(t), tt.badPuts)
			data := []byte("0123456789")
			res, addErr, err := syncBlobs(t.Context(), store, SyncOptions{Retry: fastRetry},
				[]testBlob{{uuid: "u", data: data}})
			if addErr != nil {
				t.Fatal(addErr)
			}
			if res.Uploaded != tt.wantUploaded || res.Failed != tt.wantFailed || (err != nil) != (tt.wantFailed > 0) {
				t.Fatalf("result %+v, err %v; want %d uploaded, %d failed", res, err, tt.wantUploaded, tt.wantFailed)
			}
			if tt.wantFailed > 0 && !strings.Contains(res.Failures[0].Err, "verify") {
				t.Errorf("failure %q does not say verification failed", res.Failures[0].Err)
			}
			if tt.wantUploaded > 0 {
				if got := readAll(t, store, "u"); !bytes.Equal(got, data) {
					t.Errorf("store holds %q, want %q", got, data)
				}
			}
		})
	}
}

func lossy(hideMD5 bool) func(Store, int32) Store {
	return func(s Store, badPuts int32) Store {
		l := &lossyStore{Store: s, hideMD5: hideMD5}
		l.badPuts.Store(badPuts)
		return l
	}
}

func misreporting(s Store, badPuts int32) Store {
	m := &misreportingStore{Store: s}
	m.badPuts.Store(badPuts)
	return m
}

// countingStore counts the calls a Syncer makes to a real store and can
// fail List or strip the MD5 from Put's answer. It is no completeLister;
// listedStore is.
type countingStore struct {
	Store
	stats, puts, lists, opens atomic.Int32
	listErr                   error // returned by List instead of listing
	hideMD5                   bool  // Put confirms no MD5
}

func (c *countingStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	c.stats.Add(1)
	return c.Store.Stat(ctx, key)
}

func (c *countingStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.Store.Open(ctx, key)
}

func (c *countingStore) Put(ctx context.Context, key string, p Payload) (ObjectInfo, error) {
	c.puts.Add(1)
	info, err := c.Store.Put(ctx, key, p)
	if c.hideMD5 {
		info.MD5 = nil
	}
	return info, err
}

func (c *countingStore) List(ctx context.Context, fn func(ObjectInfo) error) error {
	c.lists.Add(1)
	if c.listErr != nil {
		return c.listErr
	}
	return c.Store.List(ctx, fn)
}

// listedStore vouches that its List shows every key, as S3 and Azure do;
// the file store under it does for the plain keys these tests use.
type listedStore struct{ *countingStore }

func (listedStore) listShowsEveryKey() {}

// TestSyncerListsOnce checks the requests per blob: one listing for the
// run, a Stat only for keys the listing showed (or for every key when
// there is no listing to trust), one Put per upload and no Stat after a
// Put that confirmed its MD5.
func TestSyncerListsOnce(t *testing.T) {
	const newBlobs = 20
	tests := []struct {
		name      string
		complete  bool  // the store is a completeLister
		listErr   error // List fails
		maxIndex  int   // maxIndexedKeys, 0: unchanged
		hideMD5   bool  // Put confirms no MD5
		wantLists int32
		wantStats int32
		wantLog   string
	}{
		{"listing proves absence", true, nil, 0, false, 1, 2, ""},
		{"unconfirmed put is stat'ed", true, nil, 0, true, 1, 2 + newBlobs, ""},
		{"listing fails", true, fmt.Errorf("list: %w", ErrAccessDenied), 0, false, 1, 2 + newBlobs, "listing the store failed"},
		{"too many objects to index", true, nil, 1, false, 1, 2 + newBlobs, "too many objects to index"},
		{"store without a complete listing", false, nil, 0, false, 0, 2 + newBlobs, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.maxIndex > 0 {
				old := maxIndexedKeys
				maxIndexedKeys = tt.maxIndex
				t.Cleanup(func() { maxIndexedKeys = old })
			}
			base := openTempFileStore(t)
			blobs := makeBlobs(2+newBlobs, 100)
			same, other := blobs[0], blobs[1]
			if _, err := base.Put(t.Context(), same.uuid, BytesPayload(same.data)); err != nil {
				t.Fatal(err)
			}
			if _, err := base.Put(t.Context(), other.uuid, BytesPayload([]byte("other content"))); err != nil {
				t.Fatal(err)
			}
			counting := &countingStore{Store: base, listErr: tt.listErr, hideMD5: tt.hideMD5}
			var store Store = counting
			if tt.complete {
				store = listedStore{counting}
			}
			var logged bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logged, nil))
			res, addErr, err := syncBlobs(t.Context(), store, SyncOptions{Retry: fastRetry, Log: log}, blobs)
			if addErr != nil {
				t.Fatal(addErr)
			}
			if res.Uploaded != newBlobs || res.Skipped != 1 || res.Failed != 1 ||
				err == nil || len(res.Failures) != 1 || res.Failures[0].Key != other.uuid ||
				!strings.Contains(res.Failures[0].Err, "use --overwrite") {
				t.Fatalf("result %+v, %v; want %d uploaded, %s skipped, %s refused", res, err, newBlobs, same.uuid, other.uuid)
			}
			if got := counting.lists.Load(); got != tt.wantLists {
				t.Errorf("%d listings, want %d", got, tt.wantLists)
			}
			if got := counting.stats.Load(); got != tt.wantStats {
				t.Errorf("%d stats, want %d", got, tt.wantStats)
			}
			if got := counting.puts.Load(); got != newBlobs {
				t.Errorf("%d puts, want %d", got, newBlobs)
			}
			if tt.wantLog != "" && !strings.Contains(logged.String(), tt.wantLog) {
				t.Errorf("log does not say %q:\n%s", tt.wantLog, logged.String())
			}
			assertStored(t, base, append([]testBlob{same, {uuid: other.uuid, data: []byte("other content")}}, blobs[2:]...), sameKey, 1)
		})
	}
}

// TestSyncerListedStoreCancelled starts a run whose context has already
// ended: the listing stops, no blob is put, none counts as failed, and
// Wait does not hang.
func TestSyncerListedStoreCancelled(t *testing.T) {
	counting := &countingStore{Store: openTempFileStore(t)}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, addErr, err := syncBlobs(ctx, listedStore{counting}, SyncOptions{}, makeBlobs(3, 10))
	if !errors.Is(addErr, context.Canceled) || !errors.Is(err, context.Canceled) || res.Failed != 0 || res.Uploaded != 0 {
		t.Fatalf("result %+v, add %v, wait %v; want nothing done and an interrupted run", res, addErr, err)
	}
	if counting.puts.Load() != 0 {
		t.Errorf("%d puts after cancellation", counting.puts.Load())
	}
}

func TestKeyIndex(t *testing.T) {
	kept, err := newKeptListing(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kept.remove)
	sum := md5.Sum([]byte("x"))
	listing := []ObjectInfo{
		{Key: "a", Size: 1, MD5: sum[:]},
		{Key: "b/c", Size: 2, MaybeMD5: sum[:]},
		{Key: "d", Size: 3},
	}
	withKept := &keyIndex{seed: maphash.MakeSeed(), kept: kept}
	bare := &keyIndex{seed: withKept.seed}
	for _, info := range listing {
		at, err := kept.add(info)
		if err != nil {
			t.Fatal(err)
		}
		withKept.add(info.Key, at)
		bare.add(info.Key, -1)
	}
	kept.finish(nil)
	withKept.sort()
	bare.sort()
	for _, info := range listing {
		got, found := withKept.find(info.Key)
		if !found || !reflect.DeepEqual(got, info) {
			t.Errorf("find(%q) = %+v, %v; want %+v as listed", info.Key, got, found, info)
		}
		if got, found := bare.find(info.Key); !found || got.Key != "" {
			t.Errorf("find(%q) without a kept listing = %+v, %v; want a hit without details", info.Key, got, found)
		}
	}
	for _, key := range []string{"b", "c", "", "A"} {
		if _, found := withKept.find(key); found {
			t.Errorf("find(%q) found a key the listing lacks", key)
		}
	}
}

func TestListedSame(t *testing.T) {
	blob := BytesPayload([]byte("content"))
	other := md5.Sum([]byte("other"))
	for _, c := range []struct {
		name   string
		listed ObjectInfo
		want   bool
	}{
		{"same size and MD5", ObjectInfo{Size: 7, MD5: blob.MD5()}, true},
		{"same size and plain ETag", ObjectInfo{Size: 7, MaybeMD5: blob.MD5()}, true},
		{"no digest", ObjectInfo{Size: 7}, false},
		{"other digest", ObjectInfo{Size: 7, MaybeMD5: other[:]}, false},
		{"other size", ObjectInfo{Size: 8, MD5: blob.MD5()}, false},
	} {
		if got := listedSame(c.listed, blob); got != c.want {
			t.Errorf("%s: listedSame = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSyncerUnwrapsRetryStore(t *testing.T) {
	store := openTempFileStore(t)
	s := NewSyncer(t.Context(), WithRetry(store, RetryPolicy{MaxAttempts: 7}), SyncOptions{})
	defer s.Wait()
	if s.store != store || s.retry.MaxAttempts != 7 {
		t.Fatalf("Syncer uses %T with %d attempts; want the bare store and the wrapper's policy", s.store, s.retry.MaxAttempts)
	}
}

func TestSyncerCapsFailures(t *testing.T) {
	store := &flakyStore{} // with one transfer, calls are never concurrent
	for range MaxFailures + 5 {
		store.errs = append(store.errs, errBoom)
	}
	s := NewSyncer(t.Context(), store, SyncOptions{Transfers: 1})
	for i := range MaxFailures + 5 {
		if err := s.Add(t.Context(), fmt.Sprint("u", i), 1, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Wait()
	if err == nil || res.Failed != MaxFailures+5 || len(res.Failures) != MaxFailures {
		t.Fatalf("Failed=%d, len(Failures)=%d, err=%v; want %d counted, %d kept, an error",
			res.Failed, len(res.Failures), err, MaxFailures+5, MaxFailures)
	}
	if !strings.Contains(res.Failures[0].Err, "boom") {
		t.Errorf("failure text %q lost the cause", res.Failures[0].Err)
	}
}

// BenchmarkSyncFileStore measures the whole path for typical Mendix files
// (64 KiB): buffer and hash, stat, put with fsync and rename, verify.
func BenchmarkSyncFileStore(b *testing.B) {
	blobs := makeBlobs(200, 0)
	for i := range blobs {
		blobs[i].data = randomBytes(uint64(i), 64<<10)
	}
	b.SetBytes(totalBytes(blobs))
	for b.Loop() {
		store := openTempFileStore(b)
		s := NewSyncer(b.Context(), store, SyncOptions{})
		for _, blob := range blobs {
			if err := s.Add(b.Context(), blob.uuid, int64(len(blob.data)), bytes.NewReader(blob.data)); err != nil {
				b.Fatal(err)
			}
		}
		if res, err := s.Wait(); err != nil || res.Uploaded != len(blobs) {
			b.Fatalf("sync: %+v, %v", res, err)
		}
	}
}

// TestListing lists a store to disk, marks some keys and names the rest.
func TestListing(t *testing.T) {
	store := openTempFileStore(t)
	for _, key := range []string{"a", "b/c", "d", "e"} {
		if _, err := store.Put(t.Context(), key, BytesPayload([]byte(key))); err != nil {
			t.Fatal(err)
		}
	}
	l, err := ListToDisk(t.Context(), store, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Len() != 4 {
		t.Fatalf("Len = %d, want 4", l.Len())
	}
	for _, c := range []struct {
		key  string
		size int64
		ok   bool
	}{{"a", 1, true}, {"b/c", 3, true}, {"x", 0, false}, {"b", 0, false}} {
		info, ok, err := l.Mark(c.key)
		if err != nil || ok != c.ok || info.Size != c.size || (ok && info.Key != c.key) {
			t.Errorf("Mark(%q) = %+v, %v, %v; want size %d, found %v", c.key, info, ok, err, c.size, c.ok)
		}
	}
	var rest []string
	if err := l.Unmarked(t.Context(), func(info ObjectInfo) error { rest = append(rest, info.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(rest)
	if !slices.Equal(rest, []string{"d", "e"}) {
		t.Errorf("Unmarked = %v, want [d e]", rest)
	}
}
