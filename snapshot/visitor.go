package snapshot

import (
	"context"
	"io"

	"github.com/mxmigrate/mxmigrate/internal/escape"
)

// Blob is one stored file of the app, tree/xx/yy/<uuid> in the backup.
type Blob struct {
	UUID  string
	Entry string // path inside the backup, as stored there
	Size  int64
}

// Anomaly is something in the backup that was not used: a hostile or
// misplaced entry, a duplicate, unreadable metadata. It never stops a walk.
type Anomaly struct {
	Entry   string `json:"entry"`
	Problem string `json:"problem"`
}

// String names the entry first. A name with control characters is quoted,
// so that a hostile archive cannot write escape sequences to a terminal.
func (a Anomaly) String() string {
	return escape.Text(a.Entry) + ": " + escape.Text(a.Problem)
}

// Visitor receives a backup's content during Walk. A nil callback means
// "not interested": those bytes are skipped. A callback's error stops the
// walk and is returned wrapped with the entry's name.
type Visitor struct {
	Metadata func(Metadata) error
	// Dump is called once with the database dump; r is valid only during
	// the call.
	Dump func(ctx context.Context, r io.Reader, size int64) error
	// Blob is called for every well-formed tree/xx/yy/<uuid> entry; r is
	// valid only during the call (the callback may copy it and return,
	// e.g. to upload it concurrently). Bytes the callback leaves unread
	// are read past and still checked.
	Blob func(ctx context.Context, b Blob, r io.Reader) error
	// Anomaly is called for every anomaly, as found.
	Anomaly func(Anomaly)
}

// MaxStoredAnomalies bounds Summary.Anomalies so that a hostile archive
// with millions of odd entries cannot exhaust memory; AnomalyCount still
// counts them all, and Visitor.Anomaly still sees them all.
const MaxStoredAnomalies = 1000

// Summary is what a Walk found.
type Summary struct {
	Kind Kind   `json:"kind"`
	Path string `json:"path"`
	// Metadata is nil when the backup has none (always for a bare .backup)
	// or it could not be read.
	Metadata     *Metadata `json:"metadata,omitempty"`
	DumpEntry    string    `json:"dumpEntry,omitempty"`
	DumpSize     int64     `json:"dumpSize"`
	HasDump      bool      `json:"hasDump"`
	Blobs        int       `json:"blobs"`
	BlobBytes    int64     `json:"blobBytes"`
	Anomalies    []Anomaly `json:"anomalies,omitempty"` // the first MaxStoredAnomalies
	AnomalyCount int       `json:"anomalyCount"`
}
