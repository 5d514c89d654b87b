// Package export writes a Mendix full-snapshot backup (.tar.gz with
// .metadata, db/db.backup and tree/xx/yy/<uuid>) from a database and a
// file store: the reverse of a migration. The database is read in one
// snapshot and written as a pg_dump custom-format archive by the pure-Go
// writer in snapshot/pgdump; the blobs of the file documents in that
// snapshot are downloaded many at a time and streamed into the tar.
package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"time"

	"io"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/verify"
)

// Options steer an export. Zero values mean the documented defaults.
type Options struct {
	// ModelVersion goes into .metadata when set; otherwise the
	// modelversion of mendixsystem$version is used.
	ModelVersion string
	// Jobs is how many tables are read at once (default 2).
	Jobs int
	// Transfers is how many blobs are downloaded at once (default 16).
	Transfers int
	// MemoryBudget bounds the blob bytes held in memory (default 64 MiB);
	// blobs larger than MemoryBudget/Transfers wait in WorkDir.
	MemoryBudget int64
	// AllowConnected exports although other sessions are connected.
	AllowConnected bool
	// Schema is the database schema to export (the target's default).
	Schema string
	// FileTable names the file documents and the object keys' prefix
	// and suffix (default verify.DefaultFileTable).
	FileTable verify.FileTable
	// WorkDir holds the dump and spill files while the tar is written
	// (default os.TempDir()).
	WorkDir string
	// ToolVersion is recorded as the archive's pg_dump version.
	ToolVersion string
	// Compression of the archive's data blocks (default gzip).
	Compression pgdump.Compression
	Log         *slog.Logger
}

// Result is what an export wrote.
type Result struct {
	Tables       int              `json:"tables"`
	Rows         int64            `json:"rows"`
	TableRows    map[string]int64 `json:"tableRows"`
	Sequences    int              `json:"sequences"`
	Blobs        int              `json:"blobs"`
	DumpSize     int64            `json:"dumpSize"`
	FilesSize    int64            `json:"filesSize"`
	DatabaseSize int64            `json:"databaseSize"`
	ModelVersion string           `json:"modelVersion"`
	// MissingBlobs are file documents with contents whose object the
	// store does not hold: the backup cannot hold them either.
	MissingBlobs []string      `json:"missingBlobs,omitempty"`
	Consistency  string        `json:"consistency"`
	Duration     time.Duration `json:"duration"`
}

// maxMissingListed bounds the missing blobs kept in the result.
const maxMissingListed = 1000

// Run writes the backup of db and store to out, as a gzip-compressed tar.
// The caller holds db's migration lock. Nothing is written to out until
// the database has been dumped (to a file under WorkDir) and the blobs'
// sizes are known, so a refusal leaves out untouched.
func Run(ctx context.Context, db dbcopy.Target, store blobsync.Store, out io.Writer, opts Options) (*Result, error) {
	start := time.Now()
	opts.defaults()
	exporter, ok := db.(dbcopy.Exporter)
	if !ok {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("%s: this kind of database cannot be exported", db))
	}
	sess, err := exporter.BeginExport(ctx, dbcopy.ExportOptions{Jobs: opts.Jobs, AllowConnected: opts.AllowConnected, Schema: opts.Schema})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	schema := sess.Schema()
	opts.Log.Info("exporting the database", "source", db.String(), "tables", len(schema.Tables),
		"sequences", len(schema.Sequences), "read", schema.Consistency)

	dumpFile, err := os.CreateTemp(opts.WorkDir, "db-*.backup")
	if err != nil {
		return nil, fmt.Errorf("temporary dump file: %w", err)
	}
	defer func() {
		dumpFile.Close()
		os.Remove(dumpFile.Name())
	}()
	dump, err := writeDump(ctx, sess, dumpFile, dumpOptions{
		Jobs: opts.Jobs, SpillDir: opts.WorkDir, FileTable: opts.FileTable,
		DumpVersion: "mxmigrate " + opts.ToolVersion, Compression: opts.Compression,
	})
	if err != nil {
		return nil, err
	}
	_ = sess.Close() // the snapshot is no longer needed
	res := &Result{Tables: len(schema.Tables), TableRows: dump.Rows, Sequences: len(schema.Sequences),
		DumpSize: dump.Size, DatabaseSize: schema.DatabaseSize, Consistency: schema.Consistency}
	for _, n := range dump.Rows {
		res.Rows += n
	}
	res.ModelVersion = opts.ModelVersion
	if res.ModelVersion == "" {
		res.ModelVersion = dump.ModelVersion
	}
	if res.ModelVersion == "" {
		opts.Log.Warn("no model version: mendixsystem$version has none and --model-version was not given; .metadata will say \"\"")
	}
	opts.Log.Info("database dumped", "tables", res.Tables, "rows", res.Rows, "bytes", res.DumpSize, "took", dump.Duration.Round(time.Millisecond))

	var valid []string
	for _, u := range dump.Blobs {
		if snapshot.ValidUUID(u) {
			valid = append(valid, u)
		} else {
			opts.Log.Warn("a file document's key is not a UUID: its blob cannot be placed under tree/xx/yy/", "key", u)
		}
	}
	blobs, err := blobSizes(ctx, store, opts.FileTable, valid)
	if err != nil {
		return nil, err
	}
	for _, b := range blobs {
		if b.size < 0 {
			if len(res.MissingBlobs) < maxMissingListed {
				res.MissingBlobs = append(res.MissingBlobs, b.uuid)
			}
			continue
		}
		res.Blobs++
		res.FilesSize += b.size
	}
	if n := len(blobs) - res.Blobs; n > 0 {
		opts.Log.Warn("file documents with contents have no object in the store; the backup cannot hold them",
			"count", n, "first", res.MissingBlobs[0], "store", store.String())
	}

	meta := metadata{
		Duration:     fmt.Sprint(int64(dump.Duration.Seconds())),
		DumpSize:     fmt.Sprint(res.DumpSize),
		ModelVersion: res.ModelVersion,
		DatabaseSize: fmt.Sprint(res.DatabaseSize),
		FilesSize:    fmt.Sprint(res.FilesSize),
	}
	if _, err := dumpFile.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := writeTarball(ctx, out, meta, dumpFile, res.DumpSize, store, blobs, opts); err != nil {
		return nil, err
	}
	res.Duration = time.Since(start)
	opts.Log.Info("backup written", "tables", res.Tables, "rows", res.Rows, "files", res.Blobs, "filesBytes", res.FilesSize,
		"took", res.Duration.Round(time.Millisecond))
	return res, nil
}

func (o *Options) defaults() {
	if o.Jobs <= 0 {
		o.Jobs = 2
	}
	if o.Transfers <= 0 {
		o.Transfers = 16
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 64 << 20
	}
	if o.FileTable.Table == "" {
		ft := verify.DefaultFileTable
		ft.Prefix, ft.Suffix = o.FileTable.Prefix, o.FileTable.Suffix
		o.FileTable = ft
	}
	if o.WorkDir == "" {
		o.WorkDir = os.TempDir()
	}
	if o.ToolVersion == "" {
		o.ToolVersion = "dev"
	}
	if o.Compression == "" {
		o.Compression = pgdump.CompressionGzip
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// blob is one file document's object: size -1 when the store lacks it.
type blob struct {
	uuid string
	size int64
}

// blobSizes lists the store once and returns the size of each UUID's
// object (its tar header needs the size before the bytes), sorted by UUID,
// each UUID once.
func blobSizes(ctx context.Context, store blobsync.Store, ft verify.FileTable, uuids []string) ([]blob, error) {
	want := make(map[string]int64, len(uuids))
	for _, u := range uuids {
		want[ft.Prefix+u+ft.Suffix] = -1
	}
	err := store.List(ctx, func(o blobsync.ObjectInfo) error {
		if _, ok := want[o.Key]; ok {
			want[o.Key] = o.Size
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", store, err)
	}
	seen := make(map[string]bool, len(uuids))
	out := make([]blob, 0, len(want))
	for _, u := range uuids {
		if seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, blob{uuid: u, size: want[ft.Prefix+u+ft.Suffix]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].uuid < out[j].uuid })
	return out, nil
}

var errChanged = errors.New("changed while it was being exported")
