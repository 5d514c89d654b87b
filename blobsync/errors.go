package blobsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
)

// Error kinds that a Store wraps into its errors. Test with errors.Is.
var (
	// ErrNotExist: the object, bucket or container is not there.
	ErrNotExist = errors.New("object does not exist")
	// ErrAccessDenied: the credentials are missing, wrong, or not allowed
	// to do this. Retrying does not help.
	ErrAccessDenied = errors.New("access denied")
	// ErrThrottled: the store asked the client to slow down (HTTP 429 or
	// 503, SlowDown, ServerBusy). Retry later.
	ErrThrottled = errors.New("throttled by the store")
	// ErrTemporary: a failure that another attempt may well not meet (HTTP
	// 5xx, a timeout, a reset connection, a mismatch found on verifying).
	ErrTemporary = errors.New("temporary failure")
)

// opError is the error every store operation returns. Its message is short
// and safe to log (store, operation, key, kind, server code); the SDK error
// stays reachable through errors.As for callers that want the detail, but
// its text, which can be long or carry request URLs, is not repeated.
type opError struct {
	store  string // Store.String()
	op     string // "stat", "put", ...
	key    string // "" for operations on the store itself
	kind   error  // one of the Err* kinds above, or nil
	detail string // server code and status, or the cause's safe text
	cause  error
}

func (e *opError) Error() string {
	msg := e.store + ": " + e.op
	if e.key != "" {
		msg += fmt.Sprintf(" %q", e.key)
	}
	if e.kind != nil {
		msg += ": " + e.kind.Error()
	}
	if e.detail != "" {
		msg += " (" + e.detail + ")"
	}
	return msg
}

func (e *opError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// badInput marks err as the user's to fix (a wrong URL, missing bucket, bad
// credentials), which the CLI turns into exit code 2.
func badInput(err error) error { return exitcode.With(exitcode.BadInput, err) }

// networkKind classifies errors that happen below HTTP: they are the same
// for every SDK. It returns nil when err is none of them.
func networkKind(err error) error {
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return nil
	case errors.As(err, &netErr) && netErr.Timeout(),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF):
		return ErrTemporary
	}
	return nil
}

// safeText is err's message with the credentials redacted: an Azure SAS
// token travels in the query of the request URL that *url.Error quotes.
func safeText(err error) string {
	return redact.Text(err.Error())
}

func isOpError(err error) bool {
	var e *opError
	return errors.As(err, &e)
}

// kindOf returns the first of our kinds that err wraps, or the network
// kind, or nil.
func kindOf(err error) error {
	for _, kind := range []error{ErrNotExist, ErrAccessDenied, ErrThrottled, ErrTemporary} {
		if errors.Is(err, kind) {
			return kind
		}
	}
	return networkKind(err)
}

// missingLocation is the error for a bucket, container or folder that is not
// there. It matches ErrNotExist without claiming an object is missing.
type missingLocation struct{ msg string }

func (e *missingLocation) Error() string        { return e.msg }
func (e *missingLocation) Is(target error) bool { return target == ErrNotExist }

func errMissingLocation(store fmt.Stringer, what, name string) error {
	return badInput(&missingLocation{fmt.Sprintf("%s: %s %q does not exist", store, what, name)})
}
