package blobsync

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"time"
)

// testRootCAs replaces the system's trusted roots when set: tests point it
// at their own servers' self-signed certificates.
var testRootCAs *x509.CertPool

// newHTTPTransport is the HTTP transport of the cloud stores. Each store
// gets its own, so Close can drop its idle connections.
func newHTTPTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Many transfers go to one host; the default of 2 idle connections
	// per host would open and close connections all the time.
	tr.MaxIdleConnsPerHost = 64
	// A server that took the whole request but never answers would hang a
	// worker forever; this makes it a timeout, which WithRetry retries.
	tr.ResponseHeaderTimeout = 2 * time.Minute
	if testRootCAs != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: testRootCAs}
	}
	return tr
}
