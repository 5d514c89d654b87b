package blobsync

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
)

// SyncOptions tune a Syncer. Zero values mean the documented defaults.
type SyncOptions struct {
	Transfers int // uploads in flight; default cliflag.DefaultTransfers
	// Object key = Prefix + uuid + Suffix, like the Mendix runtime's
	// com.mendix.storage.*.ResourceNamePrefix and suffix.
	Prefix, Suffix string
	Overwrite      bool        // replace objects that exist with different content
	MemoryBudget   int64       // bytes of blobs held in memory at once; default cliflag.DefaultMemoryBudget
	SpoolDir       string      // where larger blobs wait on disk; default os.TempDir()
	Retry          RetryPolicy // for every store call, and for put-and-verify as a whole
	// The run-wide give-up: when store calls have failed without an answer
	// for GiveUpAfter, or MaxFailedInARow times in a row across all
	// workers, the run stops with a *StoreGoneError (exit 1) instead of
	// failing each remaining blob on its own. Defaults
	// DefaultGiveUpAfter and DefaultMaxFailedInARow.
	GiveUpAfter     time.Duration
	MaxFailedInARow int
	Log             *slog.Logger
	// OnDone is called once per blob with its outcome, one call at a time
	// (never concurrently), from a worker goroutine. Keep it quick, and do
	// not call the Syncer from it. Blobs cut short by cancellation get no call.
	OnDone func(key string, size int64, outcome Outcome)
	// KeepListing keeps the run's one listing of the store, for every
	// store, as key hashes in memory and keys in a file under SpoolDir,
	// so that StoreOnly can name the objects no Add asked for. Wait then
	// lets the listing finish instead of cutting it short.
	KeepListing bool
}

// Outcome is what happened to one blob.
type Outcome string

const (
	Uploaded Outcome = "uploaded" // put and verified
	Skipped  Outcome = "skipped"  // already there with the same size and MD5
	Replaced Outcome = "replaced" // there with other content; put over it (Overwrite)
	Failed   Outcome = "failed"   // see Result.Failures
)

// Failure is one blob that did not make it.
type Failure struct {
	Key string
	Err string
}

// MaxFailures caps Result.Failures so that memory stays flat even when every
// blob fails; Result.Failed still counts them all.
const MaxFailures = 1000

// Result sums up a sync.
type Result struct {
	Uploaded, Skipped, Failed int
	// Replaced counts the uploads (part of Uploaded) that put over an
	// object with other content; Refused the failures (part of Failed)
	// that did not, for want of Overwrite (ErrExists).
	Replaced, Refused   int
	Bytes, SkippedBytes int64
	Failures            []Failure // the first MaxFailures failures
	Duration            time.Duration
}

// ErrExists is the failure for an object that is already in the store with
// other content, when SyncOptions.Overwrite is off.
var ErrExists = errors.New("exists with different content; use --overwrite")

// Syncer uploads blobs read from a stream to a store, Transfers at a time.
// Add hands it blobs; Wait ends the run. Memory use stays within
// MemoryBudget plus a few buffers however many and however large the
// blobs are.
type Syncer struct {
	ctx     context.Context // the caller's, ended early when the store is gone
	stop    context.CancelCauseFunc
	health  *storeHealth
	store   Store // without retries; Syncer applies retry itself
	retry   RetryPolicy
	opts    SyncOptions
	log     *slog.Logger
	buffers *blobBuffers
	started time.Time

	// index holds the keys the store had when the run began, or is nil
	// when there is none to trust; it is set before listed is closed.
	index      *keyIndex
	listed     chan struct{}
	cancelList context.CancelFunc
	kept       *keptListing // with KeepListing; set before listed is closed
	seed       maphash.Seed

	addedMu sync.Mutex
	added   []uint64 // hashes of the keys Add queued, with KeepListing

	addMu  sync.RWMutex // Add holds it shared; Wait exclusively to close jobs
	closed bool
	jobs   chan job

	workers sync.WaitGroup

	mu          sync.Mutex // guards result, interrupted, OnDone calls
	result      Result
	interrupted int

	waitOnce sync.Once
	finalErr error
}

type job struct {
	key  string
	blob heldBlob
}

// NewSyncer starts the workers and, in the background, the one listing of
// the store that spares a Stat per new blob (see the package doc). ctx
// bounds the whole run: when it ends, the listing and uploads stop, Add
// returns its error and Wait reports the run as interrupted. A store
// wrapped in WithRetry is unwrapped and its policy used, unless opts.Retry
// is set, so retries never nest.
func NewSyncer(ctx context.Context, store Store, opts SyncOptions) *Syncer {
	store, policy := unwrapRetry(store)
	if opts.Retry != (RetryPolicy{}) {
		policy = opts.Retry
	}
	if opts.Transfers <= 0 {
		opts.Transfers = cliflag.DefaultTransfers
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = cliflag.DefaultMemoryBudget
	}
	if opts.SpoolDir == "" {
		opts.SpoolDir = os.TempDir()
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancelCause(ctx)
	s := &Syncer{
		ctx:     ctx,
		stop:    stop,
		store:   store,
		retry:   policy.withDefaults(),
		opts:    opts,
		log:     log.With("store", store.String()),
		buffers: newBlobBuffers(opts.MemoryBudget, opts.SpoolDir),
		started: time.Now(),
		seed:    maphash.MakeSeed(),
		jobs:    make(chan job),
		listed:  make(chan struct{}),
	}
	s.health = newStoreHealth(store.String(), opts.GiveUpAfter, opts.MaxFailedInARow, s.log, stop)
	// The listing runs while Add reads the first blobs off the stream;
	// workers wait for it before their first transfer.
	listCtx, cancelList := context.WithCancel(ctx)
	s.cancelList = cancelList
	go func() {
		defer close(s.listed)
		s.index, s.kept = s.listExisting(listCtx)
	}()
	s.workers.Add(opts.Transfers)
	for range opts.Transfers {
		go s.work()
	}
	return s
}

// Add reads the blob uuid, exactly size bytes, from r and queues its upload.
// r is used only during the call: Add reads it fully (into memory within the
// budget, waiting for budget to free, or into a spool file for large blobs)
// and returns once a worker has taken the blob. A short read is an error,
// and so is an Add after Wait. Upload failures are not returned here; they
// are counted in Wait's Result. Safe for concurrent use.
func (s *Syncer) Add(ctx context.Context, uuid string, size int64, r io.Reader) error {
	if uuid == "" || size < 0 {
		return badInput(fmt.Errorf("blobsync: blob %q with size %d", uuid, size))
	}
	s.addMu.RLock()
	defer s.addMu.RUnlock()
	if s.closed {
		return errors.New("blobsync: Add after Wait")
	}
	if err := s.stopped(); err != nil {
		return err
	}
	blob, err := s.buffers.read(ctx, size, r)
	if err != nil {
		return fmt.Errorf("blobsync: blob %s: %w", uuid, err)
	}
	key := s.opts.Prefix + uuid + s.opts.Suffix
	if s.opts.KeepListing {
		s.addedMu.Lock()
		s.added = append(s.added, maphash.String(s.seed, key))
		s.addedMu.Unlock()
	}
	select {
	case s.jobs <- job{key: key, blob: blob}:
		return nil
	case <-ctx.Done():
		blob.release()
		return ctx.Err()
	case <-s.ctx.Done():
		blob.release()
		return s.stopped()
	}
}

// stopped is why the run stopped: the store is gone, or the caller's
// context ended; nil while it goes on.
func (s *Syncer) stopped() error {
	if s.ctx.Err() == nil {
		return nil
	}
	return context.Cause(s.ctx)
}

// Wait lets the queued uploads finish and returns the totals. The error is
// non-nil when any blob failed, or when the run was interrupted (it then
// wraps the context's error, and a rerun uploads only what is missing).
// Calling Wait again returns the same answer.
func (s *Syncer) Wait() (Result, error) {
	s.waitOnce.Do(func() {
		s.addMu.Lock()
		s.closed = true
		close(s.jobs)
		s.addMu.Unlock()
		s.workers.Wait()
		if !s.opts.KeepListing {
			s.cancelList() // a listing still runs only if no blob came
		}
		<-s.listed
		s.index = nil // its memory is not needed any more

		s.mu.Lock()
		defer s.mu.Unlock()
		s.result.Duration = time.Since(s.started)
		r := s.result
		var gone *StoreGoneError
		switch {
		case errors.As(s.stopped(), &gone):
			s.finalErr = fmt.Errorf("blobsync: %w (%d uploaded, %d skipped, %d failed, %d cut short)",
				s.stopped(), r.Uploaded, r.Skipped, r.Failed, s.interrupted)
		case s.ctx.Err() != nil:
			s.finalErr = fmt.Errorf("blobsync: interrupted (%d uploaded, %d skipped, %d failed, %d cut short); a rerun resumes: %w",
				r.Uploaded, r.Skipped, r.Failed, s.interrupted, s.ctx.Err())
		case r.Failed > 0:
			s.finalErr = fmt.Errorf("blobsync: %d of %d blobs failed; first: %s: %s",
				r.Failed, r.Uploaded+r.Skipped+r.Failed, r.Failures[0].Key, r.Failures[0].Err)
		}
		s.stop(nil)
		s.log.Info("blob sync finished", "uploaded", r.Uploaded, "skipped", r.Skipped, "failed", r.Failed,
			"bytes", r.Bytes, "skipped_bytes", r.SkippedBytes, "duration", r.Duration)
	})
	r := s.result
	r.Failures = append([]Failure(nil), r.Failures...)
	return r, s.finalErr
}

func (s *Syncer) work() {
	defer s.workers.Done()
	for j := range s.jobs {
		outcome, err := s.transfer(s.ctx, j)
		j.blob.release()
		s.record(j.key, j.blob.Size(), outcome, err)
	}
}

func (s *Syncer) record(key string, size int64, outcome Outcome, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && s.ctx.Err() != nil {
		s.interrupted++ // not a failure: the rerun will do it
		return
	}
	switch outcome {
	case Uploaded, Replaced:
		s.result.Uploaded++
		s.result.Bytes += size
		if outcome == Replaced {
			s.result.Replaced++
		}
	case Skipped:
		s.result.Skipped++
		s.result.SkippedBytes += size
	case Failed:
		s.result.Failed++
		if errors.Is(err, ErrExists) {
			s.result.Refused++
		}
		if len(s.result.Failures) < MaxFailures {
			s.result.Failures = append(s.result.Failures, Failure{Key: key, Err: err.Error()})
		}
		s.log.Warn("blob upload failed", "key", key, "size", size, "err", err)
	}
	s.log.Debug("blob done", "key", key, "size", size, "outcome", outcome)
	if s.opts.OnDone != nil {
		s.opts.OnDone(key, size, outcome)
	}
}

// transfer moves one blob: skip it when the store already has the same
// bytes, refuse or overwrite different bytes, else put and verify. A key
// that the listing at the start proved absent is put without a stat, and
// one it proved to hold the same bytes is skipped without one.
func (s *Syncer) transfer(ctx context.Context, j job) (Outcome, error) {
	<-s.listed
	replacing := false
	held := true
	if s.index != nil {
		listed, found := s.index.find(j.key)
		held = found
		if found && listed.Key == j.key && listedSame(listed, j.blob) {
			return Skipped, nil
		}
	}
	if held {
		var info ObjectInfo
		err := s.do(ctx, "stat", j.key, func(ctx context.Context) (err error) {
			info, err = s.store.Stat(ctx, j.key)
			return err
		})
		switch {
		case errors.Is(err, ErrNotExist):
		case err != nil:
			return Failed, err
		default:
			same, err := s.sameContent(ctx, j, info)
			if err != nil {
				return Failed, err
			}
			if same {
				return Skipped, nil
			}
			if !s.opts.Overwrite {
				return Failed, ErrExists
			}
			replacing = true
		}
	}
	// Put and verify retry as one: a verification mismatch is cured by
	// putting again, which a retry of Put alone would not do.
	if err := s.do(ctx, "put", j.key, func(ctx context.Context) error { return s.putVerified(ctx, j) }); err != nil {
		return Failed, err
	}
	if replacing {
		return Replaced, nil
	}
	return Uploaded, nil
}

// listedSame reports whether the listing proves the object holds the
// blob's bytes: the same size and a listed digest equal to the blob's MD5.
// Anything less (no digest, a different one) proves nothing either way,
// and the object is asked for with Stat.
func listedSame(listed ObjectInfo, blob Payload) bool {
	sum := listed.MD5
	if sum == nil {
		sum = listed.MaybeMD5
	}
	want := blob.MD5()
	return listed.Size == blob.Size() && len(want) == md5.Size && bytes.Equal(sum, want)
}

// sameContent compares a stored object with the blob: size, then MD5 from
// the store or, when the store cannot tell, by hashing the object's bytes.
func (s *Syncer) sameContent(ctx context.Context, j job, info ObjectInfo) (bool, error) {
	if info.Size != j.blob.Size() {
		return false, nil
	}
	sum := info.MD5
	if sum == nil {
		err := s.do(ctx, "hash", j.key, func(ctx context.Context) (err error) {
			sum, err = s.hashObject(ctx, j.key)
			return err
		})
		if err != nil {
			return false, err
		}
	}
	return bytes.Equal(sum, j.blob.MD5()), nil
}

func (s *Syncer) hashObject(ctx context.Context, key string) ([]byte, error) {
	rc, err := s.store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h := md5.New()
	if _, err := io.Copy(h, rc); err != nil {
		return nil, &opError{store: s.store.String(), op: "hash", key: key, kind: networkKind(err), detail: safeText(err), cause: err}
	}
	return h.Sum(nil), nil
}

// putVerified puts the blob and checks what the store confirms it stored:
// the Put result when it carries an MD5, else what a Stat reports. A
// mismatch is ErrTemporary, so the retry policy puts it again.
func (s *Syncer) putVerified(ctx context.Context, j job) error {
	info, err := s.store.Put(ctx, j.key, j.blob)
	if err != nil {
		return err
	}
	if info.MD5 == nil {
		info, err = s.store.Stat(ctx, j.key)
		if err != nil {
			if errors.Is(err, ErrNotExist) {
				// Just put, now missing: eventual consistency or a
				// concurrent delete. Worth another put.
				return &opError{store: s.store.String(), op: "verify", key: j.key, kind: ErrTemporary,
					detail: "object missing right after upload", cause: err}
			}
			return err
		}
	}
	want := j.blob.MD5()
	if info.Size != j.blob.Size() || (info.MD5 != nil && !bytes.Equal(info.MD5, want)) {
		return &opError{store: s.store.String(), op: "verify", key: j.key, kind: ErrTemporary,
			detail: fmt.Sprintf("store reports %d bytes, MD5 %x; uploaded %d bytes, MD5 %s",
				info.Size, info.MD5, j.blob.Size(), hex.EncodeToString(want))}
	}
	return nil
}

// completeLister is implemented by stores whose List shows every key that
// Stat would find, byte for byte: S3 and Azure, whose keys are exact
// strings. A folder is not one (links, case-insensitive or normalising
// file systems give a file several names), and its Stat costs no request.
type completeLister interface {
	Store
	listShowsEveryKey()
}

// maxIndexedKeys bounds the index of existing keys to 32 MiB (16 bytes a
// key). A store holding more objects is not indexed: every blob is then
// checked with a Stat, as without an index.
var maxIndexedKeys = 2_000_000

var errIndexFull = errors.New("too many objects to index")

// keyIndex is the set of keys a store held when the run began, as 64-bit
// hashes sorted for binary search, each with the offset of its record in
// the kept listing (-1 without one), which holds the key, size and digest
// the listing gave. Two keys may share a hash; with a kept listing the
// record's key tells them apart, without one a collision makes an absent
// key look present, which costs a Stat, never a skip.
type keyIndex struct {
	seed    maphash.Seed
	entries []indexEntry
	kept    *keptListing // nil without KeepListing
}

type indexEntry struct {
	hash uint64
	at   int64
}

func (x *keyIndex) add(key string, at int64) {
	x.entries = append(x.entries, indexEntry{hash: maphash.String(x.seed, key), at: at})
}

func (x *keyIndex) sort() {
	slices.SortFunc(x.entries, func(a, b indexEntry) int { return cmp.Compare(a.hash, b.hash) })
}

// find reports whether the listing may hold key and, when the kept listing
// holds it, what the listing said about it (Key is then key; otherwise
// empty). A record that cannot be read back is treated as a hit without
// details, which costs a Stat.
func (x *keyIndex) find(key string) (ObjectInfo, bool) {
	_, info, found, _ := x.position(key)
	return info, found
}

// position is find that also returns the key's position in entries (-1
// when there is no kept listing) and an error when a record could not be
// read back (found is then true).
func (x *keyIndex) position(key string) (int, ObjectInfo, bool, error) {
	h := maphash.String(x.seed, key)
	i, found := slices.BinarySearchFunc(x.entries, h, func(e indexEntry, h uint64) int { return cmp.Compare(e.hash, h) })
	if !found {
		return -1, ObjectInfo{}, false, nil
	}
	if x.kept == nil {
		return -1, ObjectInfo{}, true, nil
	}
	for ; i < len(x.entries) && x.entries[i].hash == h; i++ {
		info, err := x.kept.at(x.entries[i].at)
		if err != nil {
			return -1, ObjectInfo{}, true, err
		}
		if info.Key == key {
			return i, info, true, nil
		}
	}
	return -1, ObjectInfo{}, false, nil // only other keys share its hash
}

// listExisting lists the store once and returns the index of its keys, or
// nil, after logging why, when the listing cannot be trusted to show every
// object: the store cannot promise it, the listing failed, or it was too
// long to keep. With KeepListing it also returns the kept listing, which
// records a failed listing as its err.
func (s *Syncer) listExisting(ctx context.Context) (*keyIndex, *keptListing) {
	_, complete := s.store.(completeLister)
	if !complete && !s.opts.KeepListing {
		return nil, nil
	}
	started := time.Now()
	var x *keyIndex
	if complete {
		x = &keyIndex{seed: s.seed}
	}
	var kept *keptListing
	if s.opts.KeepListing {
		var err error
		if kept, err = newKeptListing(s.opts.SpoolDir); err != nil {
			s.log.Warn("cannot keep the store's listing", "err", err)
			return nil, &keptListing{err: err}
		}
	}
	if x != nil {
		x.kept = kept
	}
	lister := &retryStore{Store: s.store, policy: s.retry}
	err := lister.List(ctx, func(info ObjectInfo) error {
		at := int64(-1)
		if kept != nil {
			var err error
			if at, err = kept.add(info); err != nil {
				return err
			}
		}
		if x == nil {
			return nil
		}
		if len(x.entries) >= maxIndexedKeys {
			s.log.Info("store holds too many objects to index; checking each blob with a stat",
				"max_indexed", maxIndexedKeys)
			x = nil
			if kept == nil {
				return errIndexFull
			}
			return nil
		}
		x.add(info.Key, at)
		return nil
	})
	if kept != nil {
		kept.finish(err)
	}
	switch {
	case errors.Is(err, errIndexFull):
		return nil, kept
	case err != nil && ctx.Err() != nil:
		return nil, kept // the run is over; workers find out themselves
	case err != nil:
		s.log.Warn("listing the store failed; checking each blob with a stat instead", "err", err)
		return nil, kept
	}
	if x != nil {
		x.sort()
	}
	s.log.Debug("listed the store", "duration", time.Since(started))
	return x, kept
}
