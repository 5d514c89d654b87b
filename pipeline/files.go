package pipeline

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/internal/escape"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/internal/ui"
	"github.com/mxmigrate/mxmigrate/report"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/verify"
)

// filesStage uploads the backup's blobs to the store as the walk delivers
// them, and remembers which blobs the backup held so that verification can
// tell a blob missing at the source from one lost on the way.
type filesStage struct {
	cfg    *Config
	store  blobsync.Store
	syncer *blobsync.Syncer
	task   *ui.Task

	mu    sync.Mutex
	blobs map[string]int64
}

func openFilesStage(ctx context.Context, cfg *Config, report *report.Report) (*filesStage, error) {
	store, err := cfg.openStore(ctx)
	if err != nil {
		return nil, err
	}
	report.Files = store.String()
	report.FilesIdentity = redact.Text(blobsync.IdentityOf(store))
	return &filesStage{cfg: cfg, store: store, blobs: map[string]int64{}}, nil
}

// start begins accepting blobs; totalBytes (0 if unknown) sizes the
// progress display.
func (f *filesStage) start(ctx context.Context, runDir string, totalBytes int64) {
	opts := f.cfg.syncOptions(runDir)
	// The run's one listing of the store is kept for the difference
	// report and for --prune.
	opts.KeepListing = true
	if f.cfg.Progress != nil {
		f.task = f.cfg.Progress.StartBytes("files", totalBytes)
		opts.OnDone = func(_ string, size int64, _ blobsync.Outcome) { f.task.Add(size) }
	}
	f.syncer = blobsync.NewSyncer(ctx, f.store, opts)
}

// DefaultMaxBlobSize is the largest blob entry a run accepts unless told
// otherwise (--max-blob-size): far above what Mendix apps store, far below
// what a hostile sparse entry can claim.
const DefaultMaxBlobSize = 4 << 30

// add hands one blob to the uploader; r is only valid during the call.
func (f *filesStage) add(ctx context.Context, b snapshot.Blob, r io.Reader) error {
	limit := f.cfg.MaxBlobSize
	if limit <= 0 {
		limit = DefaultMaxBlobSize
	}
	if b.Size > limit {
		return exitcode.With(exitcode.BadInput, fmt.Errorf(
			"blob %s (entry %s) is %d bytes, more than --max-blob-size %d: if the app really stores files this large, run again with a larger --max-blob-size; otherwise the backup is damaged or forged (a sparse entry?): download it again",
			b.UUID, escape.Text(b.Entry), b.Size, limit))
	}
	f.mu.Lock()
	heldBlob(f.blobs, b)
	f.mu.Unlock()
	return f.syncer.Add(ctx, b.UUID, b.Size, r)
}

// wait finishes the uploads and summarises them.
func (f *filesStage) wait() (*report.UploadReport, error) {
	res, err := f.syncer.Wait()
	f.task.Done()
	rep := &report.UploadReport{
		Uploaded: res.Uploaded, Skipped: res.Skipped, Failed: res.Failed,
		Bytes: res.Bytes, SkippedBytes: res.SkippedBytes, Seconds: res.Duration.Seconds(),
		New: res.Uploaded - res.Replaced, Replaced: res.Replaced, Refused: res.Refused,
	}
	storeOnly := 0
	listErr := f.syncer.StoreOnly(context.Background(), func(blobsync.ObjectInfo) error { storeOnly++; return nil })
	if listErr == nil {
		rep.StoreOnly = &storeOnly
	} else if err == nil {
		f.cfg.Log.Warn("cannot tell which objects the backup no longer holds", "err", listErr)
	}
	for _, fail := range res.Failures {
		rep.Failures = append(rep.Failures, fail.Key+": "+fail.Err)
	}
	return rep, err
}

func (f *filesStage) close() {
	if f.syncer != nil {
		f.syncer.Close()
	}
	f.store.Close()
}

// anomaly logs a backup anomaly and remembers the UUID it may name.
func (f *filesStage) anomaly(cfg *Config) func(snapshot.Anomaly) {
	log := logAnomaly(cfg)
	return func(a snapshot.Anomaly) {
		log(a)
		f.mu.Lock()
		skippedBlob(f.blobs, a)
		f.mu.Unlock()
	}
}

// heldBlob records a blob the backup holds, for verify.CompareFiles: by
// its UUID in lower case, as the walk compares UUIDs.
func heldBlob(blobs map[string]int64, b snapshot.Blob) {
	blobs[strings.ToLower(b.UUID)] = b.Size
}

// skippedBlob records the UUID that names an entry the walk did not
// deliver (a symbolic link, a device, an unsafe path) as verify.SkippedBlob:
// "already missing in the backup" must mean that no entry holds the UUID.
func skippedBlob(blobs map[string]int64, a snapshot.Anomaly) {
	id := strings.ToLower(path.Base(a.Entry))
	if !snapshot.ValidUUID(id) {
		return
	}
	if _, held := blobs[id]; !held {
		blobs[id] = verify.SkippedBlob
	}
}
