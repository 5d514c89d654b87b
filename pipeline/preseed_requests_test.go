package pipeline_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
	"github.com/mxmigrate/mxmigrate/snapshot"
)

// objectCalls counts the HTTP requests a store's server gets for single
// objects (a path ending in a UUID), by method, through a loopback proxy.
type objectCalls struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *objectCalls) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = map[string]int{}
}

func (c *objectCalls) get() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// countingProxy forwards to endpoint (http://127.0.0.1:PORT[/path]) and
// returns the proxy's URL in the same form. The Host header is left as the
// client sent it, so signatures over it still hold.
func countingProxy(t *testing.T, endpoint string) (string, *objectCalls) {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	calls := &objectCalls{counts: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if snapshot.ValidUUID(strings.ToLower(path.Base(r.URL.Path))) {
			calls.mu.Lock()
			calls.counts[r.Method]++
			calls.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + target.Path, calls
}

// TestMigrateAfterPreseedAsksOnlyForTheDifference: after files of an
// earlier backup, migrate of the final one (one file added, one changed
// to other bytes of the same size, 98 unchanged) sends S3 and Azure one
// request per added or changed file and none for the unchanged ones,
// whose listed MD5 (a plain ETag, Content-MD5) proves them stored: one
// HEAD for the changed file, then one PUT for the added one, or for the
// changed one with --overwrite. The folder store's calls are counted in
// blobsync's TestSyncerAfterPreseed (it makes no requests).
func TestMigrateAfterPreseedAsksOnlyForTheDifference(t *testing.T) {
	cluster := testenv.Postgres(t)
	dir := t.TempDir()
	final := filepath.Join(dir, "final.tar.gz")
	res, err := samplegen.Generate(context.Background(), samplegen.Options{Out: final, Cluster: cluster, Rows: 20, Blobs: 100, BlobMedian: 300, BlobMax: 1000, Seed: 19})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Blobs) != 100 {
		t.Fatalf("sample has %d blobs, want 100", len(res.Blobs))
	}
	added, changed := res.Blobs[99].UUID, res.Blobs[3].UUID
	finalBlobs := readBackupBlobs(t, final)
	earlier := filepath.Join(dir, "earlier.tar.gz")
	rewriteBackup(t, final, earlier, []string{added}, map[string][]byte{
		changed: bytes.Repeat([]byte{'e'}, len(finalBlobs[changed])),
	})

	for _, store := range storeKinds(t) {
		if store.name == "file" {
			continue
		}
		t.Run(store.name, func(t *testing.T) {
			var calls *objectCalls
			switch store.name {
			case "s3":
				var proxied string
				proxied, calls = countingProxy(t, os.Getenv("AWS_ENDPOINT_URL_S3"))
				t.Setenv("AWS_ENDPOINT_URL_S3", proxied)
			case "azblob":
				conn := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
				_, after, _ := strings.Cut(conn, "BlobEndpoint=")
				endpoint, _, _ := strings.Cut(after, ";")
				var proxied string
				proxied, calls = countingProxy(t, endpoint)
				t.Setenv("AZURE_STORAGE_CONNECTION_STRING", strings.Replace(conn, endpoint, proxied, 1))
			}
			files := store.fresh(t)
			rep, err := run(t, "files", pipeline.Files, config(t, earlier, "", files))
			if err != nil || rep.Upload.New != 99 {
				t.Fatalf("pre-seed: err %v, upload %+v", err, rep.Upload)
			}

			db := testenv.NewDatabase(t, cluster)
			cfg := config(t, final, db, files)
			for _, overwrite := range []bool{false, true} {
				cfg.Overwrite = overwrite
				if overwrite {
					cfg.IfExists = dbcopy.IfExistsDrop
				}
				calls.reset()
				rep, err = run(t, "migrate", pipeline.Migrate, cfg)
				up := rep.Upload
				switch {
				case !overwrite && (err == nil || up == nil || up.Refused != 1 || up.New != 1 || up.Skipped != 98 ||
					!strings.Contains(strings.Join(up.Failures, "\n"), changed)):
					t.Fatalf("migrate: err %v, upload %+v; want %s new, %s refused, 98 unchanged", err, up, added, changed)
				case overwrite && (err != nil || up == nil || up.Replaced != 1 || up.New != 0 || up.Skipped != 99):
					t.Fatalf("migrate --overwrite: err %v, upload %+v; want %s replaced, 99 unchanged", err, up, changed)
				}
				want := map[string]int{http.MethodHead: 1, http.MethodPut: 1}
				if got := calls.get(); len(got) != len(want) || got[http.MethodHead] != 1 || got[http.MethodPut] != 1 {
					t.Errorf("overwrite=%v: object requests %v, want %v", overwrite, got, want)
				}
			}
		})
	}
}
