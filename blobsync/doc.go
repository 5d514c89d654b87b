// Package blobsync moves the file blobs of a Mendix backup (tree/xx/yy/<uuid>)
// into a target file store: an S3 bucket, an Azure Blob container or a local
// folder, all behind one small Store interface chosen by URL scheme.
//
// # Stores
//
// Open picks the store by scheme from a registry (Register), so a new store
// is one new file: s3.go, azblob.go and file.go each register themselves.
// Each store checks its bucket, container or folder when opened, so a typo
// or bad credentials fail at once with an error that names the store and
// carries exitcode.BadInput.
//
// Every store verifies the MD5 of what it receives (S3 Content-MD5, Azure
// transactional MD5, a local re-hash) and the cloud stores record it
// (x-amz-meta-md5, Content-MD5) so that Stat can return it later and a rerun
// can skip a blob without downloading it. The file store records nothing
// next to the objects, so the folder looks exactly like the backup's tree
// flattened; its Stat leaves MD5 nil and the Syncer hashes through Open.
//
// Put returns what the store confirms it stored, in the same answer: the
// ETag of a single S3 PutObject (a plain MD5 the server computed over the
// bytes it kept), the Content-MD5 Azure computed over a single upload, the
// MD5 of the bytes the file store wrote and synced. An upload in parts has
// no such answer (a multipart ETag is no MD5; the MD5 of a committed block
// list is the list's), and an MD5 the store merely echoes from the request
// (x-amz-meta-md5) confirms nothing, so there Put returns no MD5 and the
// caller must Stat.
//
// Large blobs go up in parts (S3 multipart, Azure staged blocks) read
// straight from the payload's ReaderAt: nothing is buffered per part.
//
// # Retries
//
// The stores themselves never retry (the SDKs' retryers are switched off);
// they classify errors into ErrNotExist, ErrAccessDenied, ErrThrottled and
// ErrTemporary instead, and RetryPolicy decides from those alone. WithRetry
// applies a policy to every call of a store. The Syncer applies its policy
// around "put and compare what the store confirms" as one step, because a
// mismatch found on verifying is cured by putting again, which retrying Put
// alone would not do; given a WithRetry store it unwraps it, so retries
// never nest.
//
// Retries are per call; the give-up is per run. The Syncer watches every
// call of all its workers: when calls have failed without an answer (a
// refused connection, a timeout, a 5xx; throttling counts as an answer)
// for SyncOptions.GiveUpAfter, or MaxFailedInARow times in a row, it stops
// the run with a *StoreGoneError (exit 1) rather than let each remaining
// blob spend a minute retrying on its own. The first retried failure of
// each call is logged as a warning.
//
// # Syncer
//
// The Syncer reads each blob from the (tar) stream once, hashing as it
// reads, into pooled memory under a byte budget or, for large blobs, into an
// unlinked spool file. It then hands the blob to one of Transfers workers:
// stat, skip when size and MD5 match, refuse (or, with Overwrite, replace)
// different content, else put and verify. Memory stays within the budget
// whatever the number and size of blobs; an interrupted run leaves no
// partial object behind and a rerun uploads only what is missing.
//
// Verifying uses Put's answer and costs a Stat only when that answer
// carries no MD5, so a new blob takes one request, not a Stat before and
// after the Put. The Stat before is saved by listing the store once when
// the Syncer starts (while the first blobs are read) and keeping the keys
// present as 64-bit hashes, each with the offset of the key's record in
// the kept listing (KeepListing), 16 bytes a key: a key absent from that
// listing is put at once; a key present, or sharing a hash with one,
// is handled by Stat as above, so a collision costs a request, never a
// skip. With KeepListing the record also gives the listed size and digest
// (ObjectInfo.MD5 or MaybeMD5): a key whose record shows the blob's size
// and MD5 is skipped without a Stat, so a pre-seeded store costs no
// request per unchanged blob where its listing carries MD5s (S3 single-
// part objects, Azure); a listing without one, or with another, proves
// nothing and the Stat above decides. The listing
// stands for the whole run because nothing else writes to the target
// meanwhile: migrate holds the target database's migration lock for the
// whole run, so two migrations never share a target, and within a run
// every key comes once (the backup walk drops a duplicate UUID). The
// files command takes no lock: two of its runs into one target at the same
// time would each put what was absent when it started, the last one
// winning, where a Stat just before each Put would have caught most such
// clashes (never all of them). The Syncer falls back to a Stat for every
// blob, as without a listing, when the listing fails (logged), when the
// store holds more than 2 million objects (32 MiB of index; the index is
// dropped rather than grown), or when the store cannot promise that List
// shows every key Stat would find: only S3 and Azure keys are exact
// strings. A folder may answer to several names for one file (links,
// case-insensitive or normalising file systems), and its Stat costs no
// request, so the file store is asked per blob.
//
// With SyncOptions.KeepListing that one listing also serves the difference
// against the store (pre-seeded cutovers): every store lists then, and the
// keys go to a file under SpoolDir (memory stays flat), while the Syncer
// keeps a 64-bit hash of each key Add queued. After Wait, StoreOnly reads
// the file back and names the objects no Add asked for (what the backup no
// longer holds); a hash shared with an added key leaves an object out,
// which for a caller that deletes (migrate --prune) errs on keeping. Result
// counts Replaced (put over other content, with Overwrite) and Refused
// (other content left, without it) apart.
package blobsync
