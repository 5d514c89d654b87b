package blobsync

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
)

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key  string // relative to the store's prefix
	Size int64
	MD5  []byte // nil when the store cannot tell cheaply; hash Open's bytes then
	// MaybeMD5, from List only, is a digest that is the MD5 of the
	// object's bytes when the store kept them plainly and something else
	// when it did not, which the listing cannot tell (an S3 ETag: see
	// s3Store.List). Equal to a blob's MD5 it proves the same content
	// (anything else would take an MD5 collision); unequal it proves
	// nothing. Nil when MD5 is set.
	MaybeMD5 []byte
}

// Payload is a blob's bytes, re-readable so that a failed upload can be
// retried from the start without keeping a second copy.
//
// ReadAt must be safe for concurrent use (stores upload parts in parallel).
// MD5 returns the 16-byte digest of all Size bytes, or nil when unknown; a
// store computes it itself then.
type Payload interface {
	io.ReaderAt
	Size() int64
	MD5() []byte
}

// Store is a flat namespace of objects under a prefix of a bucket, container
// or folder. Keys are relative to that prefix and use "/" as separator.
//
// Every method is safe for concurrent use by many goroutines; a Syncer calls
// them from all of its workers at once. Methods honour ctx: when it ends they
// return promptly with an error that wraps ctx.Err().
//
// Errors wrap the kinds in errors.go (ErrNotExist, ErrAccessDenied,
// ErrThrottled, ErrTemporary) so that decorators such as WithRetry can decide
// what to do without knowing the store. Messages name the store and the key
// and never contain credentials.
type Store interface {
	// String names the store for logs and errors: scheme, bucket or
	// container, prefix and, for a custom endpoint, its host. Never
	// credentials or SAS tokens.
	String() string

	// Stat describes the object at key. It returns an error wrapping
	// ErrNotExist when there is none. Read-only; safe to call again.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// Put creates or replaces the object at key with p's bytes. It is
	// atomic for readers: the key shows either the old object or the whole
	// new one, never a part. The store sends p.MD5() for the server to check
	// and records it, so a later Stat returns it. Idempotent: calling it
	// again with the same payload, for example after an error, is safe.
	// p is not retained after Put returns.
	//
	// Put returns what the store confirms it stored. When the store's own
	// answer vouches for the content, MD5 is the digest it reports for the
	// bytes it kept (S3: a single request's plain-MD5 ETag; Azure: the MD5
	// the service computed over a single upload; file: the MD5 of the bytes
	// written and synced) and Size their length (for the cloud stores,
	// which report only the digest, the length sent: a digest that matches
	// p's confirms both). Otherwise MD5 is nil, Size is only the length
	// sent, and a caller that must know what is stored calls Stat: neither
	// an MD5 the store echoes from the request (S3 multipart metadata) nor
	// one of something else (a multipart ETag, Azure's committed block
	// list) confirms anything. Put does not compare its answer with p: the
	// caller does.
	Put(ctx context.Context, key string, p Payload) (ObjectInfo, error)

	// Open returns the object's bytes; the caller must Close the reader.
	// It returns an error wrapping ErrNotExist when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)

	// List calls fn for every object under the store's prefix, one call at a
	// time, in an order the store chooses. An error from fn stops the listing
	// and is returned as is. ObjectInfo.MD5 may be nil even where Stat would
	// know it. Objects put or deleted during the listing may or may not be
	// seen. A listing may carry MaybeMD5 where it cannot promise MD5.
	List(ctx context.Context, fn func(ObjectInfo) error) error

	// Delete removes the object at key. Deleting a missing object is not an
	// error, so Delete is idempotent.
	Delete(ctx context.Context, key string) error

	// Close releases the store's resources. Calls after Close fail; calling
	// Close again returns nil.
	Close() error
}

// Options tune how a store is opened.
type Options struct {
	// Create makes a missing bucket, container or folder instead of failing.
	Create bool
}

// closeFlag makes a store's methods fail after Close, as Store promises.
type closeFlag struct{ closed atomic.Bool }

func (c *closeFlag) set() { c.closed.Store(true) }

func (c *closeFlag) check(store fmt.Stringer, op, key string) error {
	if c.closed.Load() {
		return &opError{store: store.String(), op: op, key: key, detail: "store is closed"}
	}
	return nil
}

// checkKey rejects keys that no store should accept: empty, absolute, with
// an empty, "." or ".." segment, or with a backslash or NUL (which some
// stores treat as separators or terminators).
func checkKey(store fmt.Stringer, op, key string) error {
	bad := key == "" || strings.ContainsAny(key, "\\\x00")
	for part := range strings.SplitSeq(key, "/") {
		bad = bad || part == "" || part == "." || part == ".."
	}
	if bad {
		return badInput(&opError{store: store.String(), op: op, key: key,
			detail: "invalid key: empty, absolute, or with an empty, dot or backslash segment"})
	}
	return nil
}

// checkCall is the common preamble of every keyed method: the store is open
// and the key is valid.
func (c *closeFlag) checkCall(store fmt.Stringer, op, key string) error {
	if err := c.check(store, op, key); err != nil {
		return err
	}
	return checkKey(store, op, key)
}
