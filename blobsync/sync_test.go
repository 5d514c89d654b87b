package blobsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

type testBlob struct {
	uuid string
	data []byte
}

// makeBlobs returns n blobs with UUID-shaped names and sizes cycling from 0
// to maxSize, each with distinct content.
func makeBlobs(n, maxSize int) []testBlob {
	blobs := make([]testBlob, n)
	for i := range blobs {
		blobs[i] = testBlob{
			uuid: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
			data: randomBytes(uint64(i), i%(maxSize+1)),
		}
	}
	return blobs
}

func totalBytes(blobs []testBlob) int64 {
	var n int64
	for _, b := range blobs {
		n += int64(len(b.data))
	}
	return n
}

// syncBlobs adds every blob to a new Syncer and waits. It stops adding at
// the first Add error, which it returns with Wait's answer.
func syncBlobs(ctx context.Context, store Store, opts SyncOptions, blobs []testBlob) (res Result, addErr, waitErr error) {
	s := NewSyncer(ctx, store, opts)
	for _, b := range blobs {
		if addErr = s.Add(ctx, b.uuid, int64(len(b.data)), bytes.NewReader(b.data)); addErr != nil {
			break
		}
	}
	res, waitErr = s.Wait()
	return res, addErr, waitErr
}

// assertStored checks that the store holds exactly the blobs, byte for byte
// (by size for all and by content for every step-th one).
func assertStored(t *testing.T, store Store, blobs []testBlob, keyOf func(string) string, step int) {
	t.Helper()
	listed := listAll(t, store)
	if len(listed) != len(blobs) {
		t.Fatalf("store holds %d objects, want %d", len(listed), len(blobs))
	}
	for i, b := range blobs {
		key := keyOf(b.uuid)
		size, ok := listed[key]
		if !ok || size != int64(len(b.data)) {
			t.Fatalf("object %s: listed=%v size=%d, want size %d", key, ok, size, len(b.data))
		}
		if i%step == 0 {
			if got := readAll(t, store, key); !bytes.Equal(got, b.data) {
				t.Fatalf("object %s holds other bytes than the blob", key)
			}
		}
	}
}

func sameKey(uuid string) string { return uuid }

// fastRetry keeps retry tests quick without asserting on time.
var fastRetry = RetryPolicy{MaxAttempts: 3, BaseDelay: 1, MaxDelay: 1}

func TestSyncer(t *testing.T) {
	withSmallParts(t)
	forEachStore(t, func(t *testing.T, fx storeFixture) {
		t.Run("ManySmallBlobsThenRerunSkipsAll", func(t *testing.T) { testManySmallBlobs(t, fx) })
		t.Run("ZeroAndSpooledLargeBlobs", func(t *testing.T) { testZeroAndLargeBlobs(t, fx) })
		t.Run("ExistingDifferentContent", func(t *testing.T) { testExistingDifferentContent(t, fx) })
		t.Run("PrefixAndSuffix", func(t *testing.T) { testPrefixSuffix(t, fx) })
		t.Run("CancelThenResume", func(t *testing.T) { testCancelThenResume(t, fx) })
		t.Run("RequestsPerBlob", func(t *testing.T) { testRequestsPerBlob(t, fx) })
		t.Run("DifferenceAgainstStore", func(t *testing.T) { testDifferenceAgainstStore(t, fx) })
	})
}

func testManySmallBlobs(t *testing.T, fx storeFixture) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	store := openStore(t, fx.freshURL(t)+"/files")
	blobs := makeBlobs(n, 2000)
	var mu sync.Mutex
	outcomes := map[Outcome]int{}
	opts := SyncOptions{Transfers: 16, OnDone: func(_ string, _ int64, o Outcome) {
		mu.Lock()
		outcomes[o]++
		mu.Unlock()
	}}
	res, addErr, err := syncBlobs(t.Context(), store, opts, blobs)
	if addErr != nil || err != nil {
		t.Fatalf("first run: add %v, wait %v", addErr, err)
	}
	want := Result{Uploaded: n, Bytes: totalBytes(blobs)}
	if res.Uploaded != want.Uploaded || res.Bytes != want.Bytes || res.Skipped != 0 || res.Failed != 0 {
		t.Fatalf("first run = %+v, want %d uploaded, %d bytes", res, want.Uploaded, want.Bytes)
	}
	if outcomes[Uploaded] != n || len(outcomes) != 1 {
		t.Errorf("OnDone outcomes = %v, want %d uploaded", outcomes, n)
	}
	assertStored(t, store, blobs, sameKey, 97)

	res, addErr, err = syncBlobs(t.Context(), store, SyncOptions{Transfers: 16}, blobs)
	if addErr != nil || err != nil {
		t.Fatalf("rerun: add %v, wait %v", addErr, err)
	}
	if res.Skipped != n || res.SkippedBytes != want.Bytes || res.Uploaded != 0 || res.Failed != 0 {
		t.Fatalf("rerun = %+v, want all %d skipped", res, n)
	}
}

func testZeroAndLargeBlobs(t *testing.T, fx storeFixture) {
	store := openStore(t, fx.freshURL(t))
	spool := t.TempDir()
	blobs := []testBlob{
		{uuid: "zero", data: nil},
		{uuid: "large", data: randomBytes(1, 11<<20)}, // over one part; spools: above MemoryBudget/4
		{uuid: "small", data: []byte("small")},
	}
	opts := SyncOptions{MemoryBudget: 4 << 20, SpoolDir: spool}
	res, addErr, err := syncBlobs(t.Context(), store, opts, blobs)
	if addErr != nil || err != nil || res.Uploaded != len(blobs) {
		t.Fatalf("sync = %+v, add %v, wait %v; want %d uploaded", res, addErr, err, len(blobs))
	}
	assertStored(t, store, blobs, sameKey, 1)
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool dir still holds %d files after Wait", len(left))
	}
}

func testExistingDifferentContent(t *testing.T, fx storeFixture) {
	store := openStore(t, fx.freshURL(t))
	const uuid = "11111111-2222-4333-8444-555555555555"
	blob := []testBlob{{uuid: uuid, data: []byte("new content")}}
	tests := []struct {
		name      string
		existing  string
		overwrite bool
		want      Result
		wantErr   string
		wantStore string
	}{
		{"same size, other bytes, refused", "old content", false, Result{Failed: 1}, "use --overwrite", "old content"},
		{"other size, refused", "old", false, Result{Failed: 1}, "use --overwrite", "old"},
		{"overwritten when asked", "old content", true, Result{Uploaded: 1, Bytes: 11}, "", "new content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := store.Put(t.Context(), uuid, BytesPayload([]byte(tt.existing))); err != nil {
				t.Fatal(err)
			}
			res, addErr, err := syncBlobs(t.Context(), store, SyncOptions{Overwrite: tt.overwrite}, blob)
			if addErr != nil {
				t.Fatal(addErr)
			}
			if res.Uploaded != tt.want.Uploaded || res.Failed != tt.want.Failed || res.Bytes != tt.want.Bytes {
				t.Errorf("result = %+v, want %+v", res, tt.want)
			}
			if tt.wantErr == "" && err != nil {
				t.Errorf("Wait = %v, want nil", err)
			}
			if tt.wantErr != "" {
				if err == nil || len(res.Failures) != 1 || res.Failures[0].Key != uuid ||
					!strings.Contains(res.Failures[0].Err, tt.wantErr) {
					t.Errorf("Wait = %v, failures %+v; want one failure for %s mentioning %q", err, res.Failures, uuid, tt.wantErr)
				}
			}
			if got := readAll(t, store, uuid); string(got) != tt.wantStore {
				t.Errorf("store holds %q, want %q", got, tt.wantStore)
			}
		})
	}
}

func testPrefixSuffix(t *testing.T, fx storeFixture) {
	store := openStore(t, fx.freshURL(t))
	blobs := makeBlobs(5, 10)
	res, addErr, err := syncBlobs(t.Context(), store, SyncOptions{Prefix: "mx-", Suffix: ".bin"}, blobs)
	if addErr != nil || err != nil || res.Uploaded != 5 {
		t.Fatalf("sync = %+v, add %v, wait %v", res, addErr, err)
	}
	assertStored(t, store, blobs, func(uuid string) string { return "mx-" + uuid + ".bin" }, 1)
}

// testCancelThenResume cancels a run from the progress hook after a fixed
// number of uploads (no timing involved), then checks that nothing partial
// was left and that a rerun uploads exactly what is missing.
func testCancelThenResume(t *testing.T, fx storeFixture) {
	store := openStore(t, fx.freshURL(t))
	blobs := makeBlobs(300, 5000)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := 0
	opts := SyncOptions{Transfers: 4, OnDone: func(string, int64, Outcome) {
		if done++; done == 100 {
			cancel()
		}
	}}
	res, addErr, err := syncBlobs(ctx, store, opts, blobs)
	if !errors.Is(addErr, context.Canceled) {
		t.Fatalf("Add after cancel = %v, want context.Canceled", addErr)
	}
	if !errors.Is(err, context.Canceled) || exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("Wait = %v, want an interrupted error wrapping context.Canceled", err)
	}
	if res.Failed != 0 || res.Uploaded < 100 {
		t.Fatalf("interrupted run = %+v, want ≥100 uploaded and no failures", res)
	}
	present := listAll(t, store)
	if len(present) < res.Uploaded || len(present) >= len(blobs) {
		t.Fatalf("%d objects after the interrupted run (%d reported uploaded), want between", len(present), res.Uploaded)
	}
	byKey := map[string][]byte{}
	for _, b := range blobs {
		byKey[b.uuid] = b.data
	}
	for key := range present {
		if got := readAll(t, store, key); !bytes.Equal(got, byKey[key]) {
			t.Fatalf("object %s is partial or wrong after cancellation", key)
		}
	}

	res, addErr, err = syncBlobs(t.Context(), store, SyncOptions{Transfers: 4}, blobs)
	if addErr != nil || err != nil {
		t.Fatalf("rerun: add %v, wait %v", addErr, err)
	}
	// A request cancelled on the client may still complete on the server
	// after the listing above, so up to Transfers more may be skipped.
	if res.Skipped < len(present) || res.Skipped > len(present)+opts.Transfers ||
		res.Uploaded != len(blobs)-res.Skipped || res.Failed != 0 {
		t.Fatalf("rerun = %+v, want %d (up to %d) skipped and the rest uploaded", res, len(present), len(present)+opts.Transfers)
	}
	assertStored(t, store, blobs, sameKey, 10)
}

// testRequestsPerBlob counts the store calls of a first run and a rerun.
// Where the store's listing shows every key (S3, Azure), the first run
// puts each blob with no Stat before (the listing proved it absent) or
// after (the Put's answer confirmed its MD5); elsewhere each blob gets one
// Stat before. A rerun Stats each blob once and puts none.
func testRequestsPerBlob(t *testing.T, fx storeFixture) {
	base := openStore(t, fx.freshURL(t))
	counting := &countingStore{Store: base}
	var store Store = counting
	_, complete := base.(completeLister)
	if complete {
		store = listedStore{counting}
	}
	blobs := makeBlobs(50, 3000)
	n := int32(len(blobs))
	wantStats := n
	if complete {
		wantStats = 0
	}
	for _, run := range []struct {
		name                string
		wantStats, wantPuts int32
		wantUploaded        int
	}{
		{"first run", wantStats, n, len(blobs)},
		{"rerun", n, 0, 0},
	} {
		counting.stats.Store(0)
		counting.puts.Store(0)
		res, addErr, err := syncBlobs(t.Context(), store, SyncOptions{}, blobs)
		if addErr != nil || err != nil || res.Uploaded != run.wantUploaded || res.Skipped != len(blobs)-run.wantUploaded {
			t.Fatalf("%s: %+v, add %v, wait %v", run.name, res, addErr, err)
		}
		if stats, puts := counting.stats.Load(), counting.puts.Load(); stats != run.wantStats || puts != run.wantPuts {
			t.Errorf("%s: %d stats and %d puts for %d blobs, want %d and %d", run.name, stats, puts, n, run.wantStats, run.wantPuts)
		}
	}
	if complete && counting.lists.Load() != 2 {
		t.Errorf("%d listings in two runs, want 2", counting.lists.Load())
	}
	assertStored(t, base, blobs, sameKey, 1)
}

// testDifferenceAgainstStore: a second backup after a first: new blobs are
// uploaded, unchanged ones skipped, a changed one refused or replaced, and
// StoreOnly names exactly the objects the second run did not ask for.
func testDifferenceAgainstStore(t *testing.T, fx storeFixture) {
	first := makeBlobs(6, 100)
	for _, overwrite := range []bool{false, true} {
		t.Run(fmt.Sprintf("overwrite=%v", overwrite), func(t *testing.T) {
			store := openStore(t, fx.freshURL(t))
			if _, _, err := syncBlobs(t.Context(), store, SyncOptions{Prefix: "p/"}, first); err != nil {
				t.Fatal(err)
			}
			// second: blobs 0-2 as they were, 3 changed, 4 and 5 deleted, two new.
			second := append([]testBlob(nil), first[:4]...)
			second[3] = testBlob{uuid: first[3].uuid, data: []byte("changed content")}
			second = append(second, makeBlobs(8, 100)[6:]...)
			if _, err := store.Put(t.Context(), "not-a-uuid", BytesPayload([]byte("x"))); err != nil {
				t.Fatal(err)
			}
			s := NewSyncer(t.Context(), store, SyncOptions{Prefix: "p/", Overwrite: overwrite, KeepListing: true, SpoolDir: t.TempDir()})
			defer s.Close()
			for _, b := range second {
				if err := s.Add(t.Context(), b.uuid, int64(len(b.data)), bytes.NewReader(b.data)); err != nil {
					t.Fatal(err)
				}
			}
			res, err := s.Wait()
			want := Result{Uploaded: 2, Skipped: 3, Failed: 1, Refused: 1}
			if overwrite {
				want = Result{Uploaded: 3, Skipped: 3, Replaced: 1}
			}
			if res.Uploaded != want.Uploaded || res.Skipped != want.Skipped || res.Failed != want.Failed ||
				res.Replaced != want.Replaced || res.Refused != want.Refused {
				t.Errorf("result = %+v, want %+v", res, want)
			}
			if (err != nil) == overwrite {
				t.Errorf("Wait = %v, want an error only without overwrite", err)
			}
			var only []string
			if err := s.StoreOnly(t.Context(), func(o ObjectInfo) error { only = append(only, o.Key); return nil }); err != nil {
				t.Fatal(err)
			}
			slices.Sort(only)
			wantOnly := []string{"not-a-uuid", "p/" + first[4].uuid, "p/" + first[5].uuid}
			if !slices.Equal(only, wantOnly) {
				t.Errorf("StoreOnly = %v, want %v", only, wantOnly)
			}
		})
	}
}
