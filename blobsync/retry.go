package blobsync

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// RetryPolicy says how often and how patiently a failed store call is
// tried again. The zero value means DefaultRetryPolicy.
type RetryPolicy struct {
	MaxAttempts int           // tries in all, the first included
	BaseDelay   time.Duration // wait before the second try; doubles after each
	MaxDelay    time.Duration // cap on one wait
}

// DefaultRetryPolicy waits out up to about a minute of throttling or a
// restarting endpoint (waits of at most 0.5, 1, 2, ... 30 s, jittered), yet
// gives up on a store that is really down.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 8, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultRetryPolicy.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = max(DefaultRetryPolicy.MaxDelay, p.BaseDelay)
	}
	return p
}

// Do calls op until it succeeds, returns an error that retrying cannot cure,
// or the attempts run out; it returns op's last error. Between attempts it
// waits an exponentially growing, randomly jittered delay (twice as long
// after throttling), and it stops at once when ctx ends.
func (p RetryPolicy) Do(ctx context.Context, op func(ctx context.Context) error) error {
	p = p.withDefaults()
	delay := p.BaseDelay
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || attempt >= p.MaxAttempts || ctx.Err() != nil || !Retryable(err) {
			return err
		}
		wait := delay
		if errors.Is(err, ErrThrottled) {
			wait *= 2
		}
		// Full jitter: many workers throttled at once must not come back
		// in lockstep.
		wait = min(rand.N(wait)+1, p.MaxDelay)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
		delay = min(delay*2, p.MaxDelay)
	}
}

// Retryable reports whether another attempt may succeed where err failed:
// throttling, temporary server failures, timeouts and dropped connections.
// It is false for a missing object, denied access, bad input and a
// cancelled context.
func Retryable(err error) bool {
	switch {
	case err == nil,
		errors.As(err, new(finalError)),
		errors.Is(err, context.Canceled),
		errors.Is(err, ErrNotExist),
		errors.Is(err, ErrAccessDenied),
		exitcode.Of(err) == exitcode.BadInput:
		return false
	case errors.Is(err, ErrThrottled), errors.Is(err, ErrTemporary):
		return true
	}
	return networkKind(err) != nil
}

// WithRetry returns s with every call retried under policy. Wrapping a
// store that WithRetry already wraps replaces the policy instead of nesting
// two retry loops.
//
// Open retries only the opening, not reads from the returned reader. List
// is retried only until fn has been called once: after that a retry would
// show fn the same objects twice.
func WithRetry(s Store, policy RetryPolicy) Store {
	if r, ok := s.(*retryStore); ok {
		s = r.Store
	}
	return &retryStore{Store: s, policy: policy.withDefaults()}
}

type retryStore struct {
	Store
	policy RetryPolicy
}

// unwrapRetry splits a WithRetry store into its parts; a plain store comes
// back with the zero policy.
func unwrapRetry(s Store) (Store, RetryPolicy) {
	if r, ok := s.(*retryStore); ok {
		return r.Store, r.policy
	}
	return s, RetryPolicy{}
}

func (r *retryStore) Stat(ctx context.Context, key string) (info ObjectInfo, err error) {
	err = r.policy.Do(ctx, func(ctx context.Context) error {
		info, err = r.Store.Stat(ctx, key)
		return err
	})
	return info, err
}

func (r *retryStore) Put(ctx context.Context, key string, p Payload) (info ObjectInfo, err error) {
	err = r.policy.Do(ctx, func(ctx context.Context) error {
		info, err = r.Store.Put(ctx, key, p)
		return err
	})
	return info, err
}

func (r *retryStore) Open(ctx context.Context, key string) (rc io.ReadCloser, err error) {
	err = r.policy.Do(ctx, func(ctx context.Context) error {
		rc, err = r.Store.Open(ctx, key)
		return err
	})
	return rc, err
}

func (r *retryStore) List(ctx context.Context, fn func(ObjectInfo) error) error {
	delivered := false
	err := r.policy.Do(ctx, func(ctx context.Context) error {
		err := r.Store.List(ctx, func(info ObjectInfo) error {
			delivered = true
			return fn(info)
		})
		if err != nil && delivered {
			// A retry would show fn the objects it has seen again.
			return finalError{err}
		}
		return err
	})
	var final finalError
	if errors.As(err, &final) {
		return final.err
	}
	return err
}

func (r *retryStore) Delete(ctx context.Context, key string) error {
	return r.policy.Do(ctx, func(ctx context.Context) error { return r.Store.Delete(ctx, key) })
}

// finalError stops RetryPolicy.Do from trying again whatever err is.
type finalError struct{ err error }

func (e finalError) Error() string { return e.err.Error() }
func (e finalError) Unwrap() error { return e.err }
