package blobsync

import (
	"bytes"
	"context"
	"fmt"
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
// badPuts uploads, as a store that lost part of a write would. It tests the
// Syncer's verification, not a store.
type lossyStore struct {
	Store
	badPuts atomic.Int32
}

func (l *lossyStore) Put(ctx context.Context, key string, p Payload) error {
	if l.badPuts.Add(-1) >= 0 && p.Size() > 0 {
		data := make([]byte, p.Size()-1)
		if _, err := p.ReadAt(data, 0); err != nil {
			return err
		}
		return l.Store.Put(ctx, key, BytesPayload(data))
	}
	return l.Store.Put(ctx, key, p)
}

func TestSyncerVerifiesAfterPut(t *testing.T) {
	tests := []struct {
		name         string
		badPuts      int32
		wantUploaded int
		wantFailed   int
	}{
		{"first put lost, retry repairs", 1, 1, 0},
		{"every put lost, fails", 100, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &lossyStore{Store: openTempFileStore(t)}
			store.badPuts.Store(tt.badPuts)
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
