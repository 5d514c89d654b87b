package blobsync

import (
	"bytes"
	"strings"
	"testing"
)

// TestSyncerAfterPreseed runs the window's sync over a store pre-seeded
// with an earlier set of blobs (one added since, one changed to other
// bytes of the same size) and counts the store calls: where the listing
// gives each object's MD5 (S3's plain ETags, Azure's Content-MD5) an
// unchanged blob costs none, and only the changed one is asked about; a
// folder's listing gives sizes only, so each blob there is stat'ed and
// hashed (local reads). The changed blob is refused, then replaced with
// Overwrite; only the added one is uploaded.
func TestSyncerAfterPreseed(t *testing.T) {
	const total = 100
	forEachStore(t, func(t *testing.T, fx storeFixture) {
		earlier := makeBlobs(total, 2000)
		final := append([]testBlob(nil), earlier...)
		changed := 5
		final[changed].data = bytes.Repeat([]byte{'x'}, len(earlier[changed].data))
		added := makeBlobs(total+1, 2000)[total]
		final = append(final, added)

		base := openStore(t, fx.freshURL(t))
		if res, _, err := syncBlobs(t.Context(), base, SyncOptions{Retry: fastRetry}, earlier); err != nil || res.Uploaded != total {
			t.Fatalf("pre-seed: %+v, %v", res, err)
		}

		listingKnowsMD5 := fx.name != "file"
		for _, overwrite := range []bool{false, true} {
			counting := &countingStore{Store: base}
			var store Store = counting
			if listingKnowsMD5 {
				store = listedStore{counting} // what S3 and Azure are under the wrapper
			}
			res, addErr, err := syncBlobs(t.Context(), store, SyncOptions{Retry: fastRetry, KeepListing: true, Overwrite: overwrite}, final)
			if addErr != nil {
				t.Fatal(addErr)
			}
			wantUploaded, wantSkipped, wantPuts := 1, total-1, int32(1)
			if overwrite {
				// The added blob is there since the first pass.
				wantSkipped = total
			}
			switch {
			case !overwrite && (err == nil || res.Refused != 1 || res.Failures[0].Key != final[changed].uuid ||
				!strings.Contains(res.Failures[0].Err, ErrExists.Error())):
				t.Fatalf("without Overwrite: err %v, result %+v; want %s refused", err, res, final[changed].uuid)
			case overwrite && (err != nil || res.Replaced != 1):
				t.Fatalf("with Overwrite: err %v, result %+v; want the changed blob replaced", err, res)
			}
			if res.Uploaded != wantUploaded || res.Skipped != wantSkipped {
				t.Errorf("overwrite=%v: %d uploaded, %d skipped; want %d, %d", overwrite, res.Uploaded, res.Skipped, wantUploaded, wantSkipped)
			}
			wantStats, wantOpens := int32(1), int32(0) // the changed blob only
			if !listingKnowsMD5 {
				// Every blob is stat'ed (a folder's listing proves no
				// absence either); every object of the same size (all
				// here) is hashed by reading it.
				wantStats, wantOpens = total+1, total
				if overwrite {
					wantOpens = total + 1
				}
			}
			if got := counting.stats.Load(); got != wantStats {
				t.Errorf("overwrite=%v: %d stats, want %d", overwrite, got, wantStats)
			}
			if got := counting.opens.Load(); got != wantOpens {
				t.Errorf("overwrite=%v: %d opens, want %d", overwrite, got, wantOpens)
			}
			if got := counting.puts.Load(); got != wantPuts {
				t.Errorf("overwrite=%v: %d puts, want %d", overwrite, got, wantPuts)
			}
		}
		assertStored(t, base, final, sameKey, 1)
	})
}
