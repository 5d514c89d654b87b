package blobsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// flakyStore fails its calls with the queued errors, in order, then
// succeeds. It exists to drive the retry decorator, not to stand in for a
// real store.
type flakyStore struct {
	errs   []error
	calls  int
	listed []ObjectInfo // what List shows before failing with the queued error
}

func (f *flakyStore) next() error {
	f.calls++
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func (f *flakyStore) String() string { return "flaky://" }
func (f *flakyStore) Stat(context.Context, string) (ObjectInfo, error) {
	return ObjectInfo{Key: "k", Size: 1}, f.next()
}
func (f *flakyStore) Put(_ context.Context, key string, p Payload) (ObjectInfo, error) {
	if err := f.next(); err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{Key: key, Size: p.Size(), MD5: p.MD5()}, nil
}
func (f *flakyStore) Open(context.Context, string) (io.ReadCloser, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return io.NopCloser(nil), nil
}
func (f *flakyStore) List(_ context.Context, fn func(ObjectInfo) error) error {
	for _, info := range f.listed {
		if err := fn(info); err != nil {
			return err
		}
	}
	return f.next()
}
func (f *flakyStore) Delete(context.Context, string) error { return f.next() }
func (f *flakyStore) Close() error                         { return nil }

// timeoutError is a network timeout as net.Conn reports it.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestRetryPolicyDo(t *testing.T) {
	temporary := fmt.Errorf("HTTP 500: %w", ErrTemporary)
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   error // nil: success
	}{
		{"success first time", nil, 1, nil},
		{"throttled twice then ok", []error{ErrThrottled, ErrThrottled}, 3, nil},
		{"temporary until attempts run out", []error{temporary, temporary, temporary, temporary}, 3, ErrTemporary},
		{"network timeout retried", []error{timeoutError{}}, 2, nil},
		{"connection reset retried", []error{&wrapErr{syscall.ECONNRESET}}, 2, nil},
		{"unexpected EOF retried", []error{io.ErrUnexpectedEOF}, 2, nil},
		{"not exist never retried", []error{ErrNotExist}, 1, ErrNotExist},
		{"access denied never retried", []error{ErrAccessDenied}, 1, ErrAccessDenied},
		{"bad input never retried", []error{exitcode.With(exitcode.BadInput, ErrTemporary)}, 1, ErrTemporary},
		{"cancellation never retried", []error{context.Canceled}, 1, context.Canceled},
		{"unknown errors not retried", []error{errBoom}, 1, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &flakyStore{errs: tt.errs}
			info, err := WithRetry(store, fastRetry).Put(t.Context(), "k", BytesPayload([]byte("x")))
			if store.calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", store.calls, tt.wantCalls)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (info.Key != "k" || info.Size != 1 || !bytes.Equal(info.MD5, md5Of([]byte("x")))) {
				t.Errorf("Put = %+v, want the store's answer for the last attempt", info)
			}
		})
	}
}

var errBoom = errors.New("boom")

type wrapErr struct{ err error }

func (e *wrapErr) Error() string { return "write: " + e.err.Error() }
func (e *wrapErr) Unwrap() error { return e.err }

func TestRetryStopsWhenContextEndsDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	// An hour-long backoff: the test only finishes if cancellation cuts it.
	policy := RetryPolicy{MaxAttempts: 5, BaseDelay: time.Hour, MaxDelay: time.Hour}
	err := policy.Do(ctx, func(context.Context) error {
		calls++
		cancel()
		return ErrThrottled
	})
	if calls != 1 || !errors.Is(err, ErrThrottled) {
		t.Fatalf("Do = %v after %d calls, want the throttling error after 1", err, calls)
	}
}

func TestRetryEveryMethod(t *testing.T) {
	ops := map[string]func(Store) error{
		"Stat":   func(s Store) error { _, err := s.Stat(context.Background(), "k"); return err },
		"Put":    func(s Store) error { _, err := s.Put(context.Background(), "k", BytesPayload(nil)); return err },
		"Open":   func(s Store) error { _, err := s.Open(context.Background(), "k"); return err },
		"Delete": func(s Store) error { return s.Delete(context.Background(), "k") },
		"List":   func(s Store) error { return s.List(context.Background(), func(ObjectInfo) error { return nil }) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			store := &flakyStore{errs: []error{ErrThrottled, ErrTemporary}}
			if err := op(WithRetry(store, fastRetry)); err != nil || store.calls != 3 {
				t.Fatalf("%s = %v after %d calls, want success on the 3rd", name, err, store.calls)
			}
		})
	}
}

func TestRetryListNeverRepeatsObjects(t *testing.T) {
	tests := []struct {
		name      string
		listed    []ObjectInfo
		wantCalls int
		wantSeen  int
		wantErr   bool
	}{
		{"fails before any object: retried", nil, 2, 0, false},
		{"fails after an object: not retried", []ObjectInfo{{Key: "a"}}, 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &flakyStore{errs: []error{ErrTemporary}, listed: tt.listed}
			seen := 0
			err := WithRetry(store, fastRetry).List(t.Context(), func(ObjectInfo) error { seen++; return nil })
			if store.calls != tt.wantCalls || seen != tt.wantSeen || (err != nil) != tt.wantErr {
				t.Fatalf("List = %v, %d calls, %d objects seen; want error=%v, %d calls, %d seen",
					err, store.calls, seen, tt.wantErr, tt.wantCalls, tt.wantSeen)
			}
			if tt.wantErr && !errors.Is(err, ErrTemporary) {
				t.Errorf("List error %v lost its kind", err)
			}
		})
	}
}

func TestWithRetryDoesNotNest(t *testing.T) {
	inner := &flakyStore{}
	outer := WithRetry(WithRetry(inner, RetryPolicy{MaxAttempts: 9}), RetryPolicy{MaxAttempts: 2})
	store, policy := unwrapRetry(outer)
	if store != Store(inner) || policy.MaxAttempts != 2 {
		t.Fatalf("unwrapRetry = %T with %d attempts, want the inner store with the outer policy", store, policy.MaxAttempts)
	}
	if outer.String() != inner.String() {
		t.Errorf("String() = %q, want the inner store's %q", outer.String(), inner.String())
	}
}
