package blobsync

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// storeFixture is one kind of store backed by a real server (or a real
// folder), set up once per top-level test and shared by its subtests.
type storeFixture struct {
	name string
	// freshURL creates an empty bucket, container or folder and returns its
	// URL, without a trailing slash; add "/PREFIX" for a store inside it.
	freshURL func(t *testing.T) string
	// missingURL names a bucket, container or folder that does not exist,
	// and that name, for assertions on the error message.
	missingURL func(t *testing.T) (rawURL, location string)
	// badCredentials points the store at wrong credentials for the rest of
	// the test and returns a URL to open and the secret that must not leak.
	// nil when the store has no credentials.
	badCredentials func(t *testing.T) (rawURL, secret string)
	statKnowsMD5   bool // Stat returns the MD5 of objects Put wrote
	// putConfirmsParts: Put confirms the MD5 of blobs it uploads in parts
	// too (all stores confirm single-request uploads).
	putConfirmsParts bool
}

var locationSeq atomic.Int64

// uniqueName is a bucket/container/folder name valid for every store.
func uniqueName(kind string) string {
	return fmt.Sprintf("%s-%06d", kind, locationSeq.Add(1))
}

// storeKind is one kind of store and how to set up its fixture.
type storeKind struct {
	name    string
	fixture func(t *testing.T) storeFixture
}

// storeKinds lists the three stores. Each fixture starts its server (MinIO,
// Azurite) only when called, in the subtest of that store: the file store's
// tests need no server, so `-short` and `-run /file` start none.
// Credentials go into the environment as a user would set them.
func storeKinds() []storeKind {
	return []storeKind{{"file", fileFixture}, {"s3", s3Fixture}, {"azblob", azureFixture}}
}

// forEachStore runs tests once per store, as a subtest named after it, with
// that store's fixture set up lazily inside the subtest.
func forEachStore(t *testing.T, tests func(t *testing.T, fx storeFixture)) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) { tests(t, kind.fixture(t)) })
	}
}

func fileFixture(t *testing.T) storeFixture {
	root := t.TempDir()
	return storeFixture{
		name:             "file",
		putConfirmsParts: true,
		freshURL: func(t *testing.T) string {
			dir := filepath.Join(root, uniqueName("folder"))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			return (&url.URL{Scheme: "file", Path: dir}).String()
		},
		missingURL: func(t *testing.T) (string, string) {
			dir := filepath.Join(root, uniqueName("missing"))
			return "file://" + dir, dir
		},
	}
}

func s3Fixture(t *testing.T) storeFixture {
	minio := testenv.MinIO(t)
	isolateFromUserConfig(t)
	for k, v := range minio.Env() {
		t.Setenv(k, v)
	}
	return storeFixture{
		name:         "s3",
		statKnowsMD5: true,
		freshURL: func(t *testing.T) string {
			bucket := uniqueName("bucket")
			minio.CreateBucket(t, bucket)
			return "s3://" + bucket
		},
		missingURL: func(t *testing.T) (string, string) {
			bucket := uniqueName("missing")
			return "s3://" + bucket, bucket
		},
		badCredentials: func(t *testing.T) (string, string) {
			bucket := uniqueName("bucket")
			minio.CreateBucket(t, bucket)
			secret := "wrong-" + minio.SecretKey
			t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
			return "s3://" + bucket, secret
		},
	}
}

// isolateFromUserConfig keeps the developer's ~/.aws and any instance
// metadata service out of the tests: loopback only.
func isolateFromUserConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION",
		"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING"} {
		t.Setenv(k, "")
	}
}

func azureFixture(t *testing.T) storeFixture {
	azurite := testenv.Azurite(t)
	isolateFromUserConfig(t)
	for k, v := range azurite.Env() {
		t.Setenv(k, v)
	}
	client, err := azblob.NewClientFromConnectionString(azurite.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	createContainer := func(t *testing.T) string {
		name := uniqueName("container")
		if _, err := client.CreateContainer(context.Background(), name, nil); err != nil {
			t.Fatalf("create container %s: %v", name, err)
		}
		return name
	}
	return storeFixture{
		name:         "azblob",
		statKnowsMD5: true,
		freshURL: func(t *testing.T) string {
			return "azblob://" + createContainer(t)
		},
		missingURL: func(t *testing.T) (string, string) {
			name := uniqueName("missing")
			return "azblob://" + name, name
		},
		badCredentials: func(t *testing.T) (string, string) {
			container := createContainer(t)
			// A well-formed key of the right length that is not the account's.
			secret := "d3JvbmdrZXl3cm9uZ2tleXdyb25na2V5d3JvbmdrZXl3cm9uZ2tleXdyb25na2V5d3Jvbmdrd3Jvbmc="
			t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "DefaultEndpointsProtocol=http;AccountName="+azurite.AccountName+
				";AccountKey="+secret+";BlobEndpoint="+azurite.Endpoint+";")
			return "azblob://" + container, secret
		},
	}
}

// openStore opens rawURL, creating a missing sub-folder of a file store,
// and closes the store when the test ends.
func openStore(t *testing.T, rawURL string) Store {
	t.Helper()
	s, err := Open(t.Context(), rawURL, Options{Create: true})
	if err != nil {
		t.Fatalf("Open(%s): %v", rawURL, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
