package blobsync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/registry"
)

// Opener opens the store that u names. It gets the parsed URL, query
// included; it must not echo the query (it may hold a SAS token) in errors.
type Opener func(ctx context.Context, u *url.URL, opts Options) (Store, error)

var stores registry.Registry[Opener]

// Register makes open handle URLs with the given schemes (no "://"). Stores
// call it from init, one file each, so adding a store touches no switch
// statement.
func Register(open Opener, schemes ...string) { stores.Register(open, schemes...) }

// Schemes lists the registered URL schemes, sorted.
func Schemes() []string { return stores.Schemes() }

// Open opens the store named by rawURL: s3://BUCKET[/PREFIX],
// azblob://CONTAINER[/PREFIX], https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX],
// file:///PATH or a bare local path. Errors caused by the URL, a missing
// bucket or bad credentials carry exitcode.BadInput.
func Open(ctx context.Context, rawURL string, opts Options) (Store, error) {
	if rawURL == "" {
		return nil, badInput(errors.New("blobsync: empty store URL"))
	}
	u, err := parseStoreURL(rawURL)
	if err != nil {
		return nil, badInput(err)
	}
	open, ok := stores.Lookup(u.Scheme)
	if !ok {
		return nil, badInput(fmt.Errorf("blobsync: unsupported store scheme %q (supported: %s)",
			u.Scheme, strings.Join(Schemes(), ", ")))
	}
	return open(ctx, u, opts)
}

// parseStoreURL parses rawURL, treating anything without a scheme (or with a
// one-letter Windows drive "scheme") as a local path.
func parseStoreURL(rawURL string) (*url.URL, error) {
	scheme, _, found := strings.Cut(rawURL, "://")
	if !found || len(scheme) < 2 {
		return &url.URL{Scheme: "file", Path: rawURL}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, SAS token included: keep only
		// the reason.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("blobsync: invalid store URL %s://…: %w", scheme, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, nil
}

// folderPrefix turns a URL path into an object key prefix: no leading
// slash, and a trailing one so that "s3://b/app" holds "app/<uuid>".
func folderPrefix(path string) string {
	p := strings.Trim(path, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}
