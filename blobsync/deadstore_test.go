package blobsync

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// syncLog is a slog text handler's output that tests may read while the
// Syncer writes.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// A store that goes away mid-run stops the whole run promptly, exit 1 with
// "has not answered for", by whichever limit comes first; retries are
// logged at warning level; a rerun skips what was stored.
func TestDeadStoreStopsTheRun(t *testing.T) {
	minio := testenv.MinIO(t)
	isolateFromUserConfig(t)
	for k, v := range minio.Env() {
		t.Setenv(k, v)
	}
	target, err := url.Parse(minio.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		giveUpAfter time.Duration
		maxInARow   int
		wantRule    string
	}{
		{"failures in a row", time.Hour, 12, "limit 12"},
		{"time without an answer", 2 * time.Second, 1 << 30, "limit 2s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bucket := uniqueName("bucket")
			minio.CreateBucket(t, bucket)
			// The store is reached through a loopback proxy that the test
			// takes away: connections are then refused, as by a dead store.
			proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
			defer proxy.Close()
			storeURL := fmt.Sprintf("s3://%s?endpoint=%s", bucket, url.QueryEscape(proxy.URL))
			store, err := Open(t.Context(), storeURL, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()

			logs := &syncLog{}
			var done atomic.Int32
			opts := SyncOptions{
				Transfers: 4, SpoolDir: t.TempDir(),
				Retry:       RetryPolicy{MaxAttempts: 6, BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond},
				GiveUpAfter: tc.giveUpAfter, MaxFailedInARow: tc.maxInARow,
				Log:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
				OnDone: func(string, int64, Outcome) { done.Add(1) },
			}
			s := NewSyncer(t.Context(), store, opts)
			blob := func(i int) (string, string) { return fmt.Sprintf("blob-%04d", i), strings.Repeat("x", 100+i) }
			const before = 5
			for i := range before {
				key, body := blob(i)
				if err := s.Add(t.Context(), key, int64(len(body)), strings.NewReader(body)); err != nil {
					t.Fatal(err)
				}
			}
			for deadline := time.Now().Add(30 * time.Second); done.Load() < before; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the first uploads did not finish")
				}
			}

			proxy.CloseClientConnections()
			proxy.Close()
			stopped := time.Now()
			var addErr error
			for i := before; i < 10_000 && addErr == nil; i++ {
				key, body := blob(i)
				addErr = s.Add(t.Context(), key, int64(len(body)), strings.NewReader(body))
				if time.Since(stopped) > time.Minute {
					break
				}
			}
			elapsed := time.Since(stopped)
			res, waitErr := s.Wait()
			var gone *StoreGoneError
			if !errors.As(addErr, &gone) || !errors.As(waitErr, &gone) {
				t.Fatalf("after %s: Add = %v, Wait = %v; want the store given up", elapsed, addErr, waitErr)
			}
			if elapsed > 20*time.Second {
				t.Fatalf("giving up took %s", elapsed)
			}
			if exitcode.Of(waitErr) != exitcode.Failure || exitcode.Of(addErr) != exitcode.Failure {
				t.Fatalf("exit codes %d / %d, want %d", exitcode.Of(addErr), exitcode.Of(waitErr), exitcode.Failure)
			}
			if msg := waitErr.Error(); !strings.Contains(msg, "has not answered for") || !strings.Contains(msg, tc.wantRule) {
				t.Fatalf("Wait error %q lacks the reason or %q", msg, tc.wantRule)
			}
			if res.Uploaded != before {
				t.Fatalf("uploaded %d, want %d", res.Uploaded, before)
			}
			if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "retrying") {
				t.Fatalf("no warning about retries in the log:\n%s", out)
			}

			// The store is back: a rerun skips what is there and does the rest.
			back := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
			defer back.Close()
			store2, err := Open(t.Context(), fmt.Sprintf("s3://%s?endpoint=%s", bucket, url.QueryEscape(back.URL)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store2.Close()
			opts.OnDone = nil
			s2 := NewSyncer(t.Context(), store2, opts)
			for i := range before + 3 {
				key, body := blob(i)
				if err := s2.Add(t.Context(), key, int64(len(body)), strings.NewReader(body)); err != nil {
					t.Fatal(err)
				}
			}
			res, err = s2.Wait()
			if err != nil || res.Skipped != before || res.Uploaded != 3 {
				t.Fatalf("rerun: %+v, %v; want %d skipped, 3 uploaded", res, err, before)
			}
		})
	}
}
