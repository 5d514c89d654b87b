package pipeline

import (
	"context"
	"io"
	"sync"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/internal/ui"
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

func openFilesStage(ctx context.Context, cfg *Config, report *verify.Report) (*filesStage, error) {
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
	if f.cfg.Progress != nil {
		f.task = f.cfg.Progress.StartBytes("files", totalBytes)
		opts.OnDone = func(_ string, size int64, _ blobsync.Outcome) { f.task.Add(size) }
	}
	f.syncer = blobsync.NewSyncer(ctx, f.store, opts)
}

// add hands one blob to the uploader; r is only valid during the call.
func (f *filesStage) add(ctx context.Context, b snapshot.Blob, r io.Reader) error {
	f.mu.Lock()
	f.blobs[b.UUID] = b.Size
	f.mu.Unlock()
	return f.syncer.Add(ctx, b.UUID, b.Size, r)
}

// wait finishes the uploads and summarises them.
func (f *filesStage) wait() (*verify.UploadReport, error) {
	res, err := f.syncer.Wait()
	f.task.Done()
	rep := &verify.UploadReport{
		Uploaded: res.Uploaded, Skipped: res.Skipped, Failed: res.Failed,
		Bytes: res.Bytes, SkippedBytes: res.SkippedBytes, Seconds: res.Duration.Seconds(),
	}
	for _, fail := range res.Failures {
		rep.Failures = append(rep.Failures, fail.Key+": "+fail.Err)
	}
	return rep, err
}

func (f *filesStage) close() { f.store.Close() }
