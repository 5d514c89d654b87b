package pipeline_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// When the store stops taking uploads mid-migration, the run stops with
// exit 1 and "has not answered"; nothing reads the half-done migration as
// finished: the report says FAILED, verify finds the files lost (exit 3),
// and a rerun (the Job's retry) verifies the database and uploads the rest.
func TestFilesPhaseFailureIsNotAFinishedMigration(t *testing.T) {
	isolateCredentials(t)
	cluster := testenv.Postgres(t)
	minio := testenv.MinIO(t)
	for k, v := range minio.Env() {
		t.Setenv(k, v)
	}
	minio.CreateBucket(t, "half")
	target, err := url.Parse(minio.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// The store answers listings and stats but fails every upload with a
	// server error while failing is set: it stopped working mid-run.
	var failing atomic.Bool
	failing.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() && r.Method == http.MethodPut {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>down</Message></Error>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()

	files := "s3://half/app?endpoint=" + url.QueryEscape(srv.URL)
	cfg := config(t, sampleBackup, testenv.NewDatabase(t, cluster), files)
	cfg.StoreMaxFailures = 5
	rep, err := run(t, "migrate", pipeline.Migrate, cfg)
	if exitcode.Of(err) != exitcode.Failure || !strings.Contains(err.Error(), "has not answered") {
		t.Fatalf("migrate with a failing store: %v (exit %d), want exit 1 saying the store has not answered", err, exitcode.Of(err))
	}
	if rep.OK || rep.ExitCode != exitcode.Failure {
		t.Fatalf("report: ok=%v exit %d; a failed files phase is no finished migration", rep.OK, rep.ExitCode)
	}

	if rep, err := run(t, "verify", pipeline.Verify, cfg); exitcode.Of(err) != exitcode.VerifyFailed || len(rep.Blobs.Lost) == 0 {
		t.Fatalf("verify after the failed run: %v (exit %d); want the files lost", err, exitcode.Of(err))
	}

	failing.Store(false)
	rep, err = run(t, "migrate again", pipeline.Migrate, cfg)
	if err != nil || !rep.OK || rep.Upload.Uploaded+rep.Upload.Skipped != 24 || rep.Blobs.Matched != 24 {
		t.Fatalf("rerun: %v; upload %+v", err, rep.Upload)
	}
}
