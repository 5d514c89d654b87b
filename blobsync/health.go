package blobsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Defaults for the run-wide give-up: each blob retries for about a minute
// on its own, so without it a store that went away mid-run would fail its
// blobs one by one, for hours.
const (
	DefaultGiveUpAfter     = 2 * time.Minute
	DefaultMaxFailedInARow = 100
)

// StoreGoneError is why a Syncer stopped the run: its store has not
// answered for too long. It carries exit code Failure (1); a rerun resumes.
type StoreGoneError struct {
	Store    string
	For      time.Duration // since the first failure of the streak
	InARow   int           // failed calls since the last answer
	LastErr  string
	StopRule string // which limit was reached
}

func (e *StoreGoneError) Error() string {
	return fmt.Sprintf("the store %s has not answered for %s (%d calls failed in a row, %s; last: %s): stopped the run; check the store, then run the same command again to resume",
		e.Store, e.For.Round(time.Second), e.InARow, e.StopRule, e.LastErr)
}

// storeHealth watches every store call of a run. A call that gets an
// answer (success, or an error that is the store's considered reply such
// as "not found" or "access denied") ends a failure streak; a retryable
// failure (a timeout, a refused connection, a 5xx) extends it. Throttling
// is an answer too: the store is there, only busy. When the streak lasts
// longer than giveUpAfter or counts maxInARow failures, stop is called.
type storeHealth struct {
	store       string
	giveUpAfter time.Duration
	maxInARow   int
	log         *slog.Logger
	stop        func(error)

	mu           sync.Mutex
	failingSince time.Time // zero while the store answers
	inARow       int
	gone         error
}

func newStoreHealth(store string, giveUpAfter time.Duration, maxInARow int, log *slog.Logger, stop func(error)) *storeHealth {
	if giveUpAfter <= 0 {
		giveUpAfter = DefaultGiveUpAfter
	}
	if maxInARow <= 0 {
		maxInARow = DefaultMaxFailedInARow
	}
	return &storeHealth{store: store, giveUpAfter: giveUpAfter, maxInARow: maxInARow, log: log, stop: stop}
}

// observe records the outcome of one store call.
func (h *storeHealth) observe(err error) {
	unanswered := err != nil && Retryable(err) && !errors.Is(err, ErrThrottled)
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if !unanswered {
		if h.inARow > 0 && err == nil {
			h.log.Warn("the store answers again", "after", now.Sub(h.failingSince).Round(time.Millisecond), "failed_calls", h.inARow)
		}
		if err == nil || !errors.Is(err, context.Canceled) {
			h.failingSince, h.inARow = time.Time{}, 0
		}
		return
	}
	if h.inARow == 0 {
		h.failingSince = now
	}
	h.inARow++
	if h.gone != nil {
		return
	}
	rule := ""
	switch {
	case h.inARow >= h.maxInARow:
		rule = fmt.Sprintf("limit %d", h.maxInARow)
	case now.Sub(h.failingSince) >= h.giveUpAfter:
		rule = fmt.Sprintf("limit %s", h.giveUpAfter)
	default:
		return
	}
	h.gone = exitcode.With(exitcode.Failure, &StoreGoneError{
		Store: h.store, For: now.Sub(h.failingSince), InARow: h.inARow, LastErr: safeText(err), StopRule: rule,
	})
	h.log.Error("giving up on the store", "err", h.gone)
	h.stop(h.gone)
}

// do is RetryPolicy.Do for one store call of the run: every attempt's
// outcome is observed, and the first failure that will be retried is
// logged at warning level, once per burst, so that failing uploads show at
// the default log level.
func (s *Syncer) do(ctx context.Context, op, key string, call func(ctx context.Context) error) error {
	warned := false
	return s.retry.Do(ctx, func(ctx context.Context) error {
		err := call(ctx)
		if ctx.Err() == nil {
			s.health.observe(err)
		}
		if err != nil && !warned && Retryable(err) && ctx.Err() == nil {
			warned = true
			s.log.Warn("store call failed; retrying", "op", op, "key", key, "err", err)
		}
		return err
	})
}
