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
// Large blobs go up in parts (S3 multipart, Azure staged blocks) read
// straight from the payload's ReaderAt: nothing is buffered per part.
//
// # Retries
//
// The stores themselves never retry (the SDKs' retryers are switched off);
// they classify errors into ErrNotExist, ErrAccessDenied, ErrThrottled and
// ErrTemporary instead, and RetryPolicy decides from those alone. WithRetry
// applies a policy to every call of a store. The Syncer applies its policy
// around "put, then stat and compare" as one step, because a mismatch found
// on verifying is cured by putting again, which retrying Put alone would not
// do; given a WithRetry store it unwraps it, so retries never nest.
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
package blobsync
