package blobsync

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// roundTrip opens rawURL, puts and stats one object, and checks that the
// store's name shows none of the secrets.
func roundTrip(t *testing.T, rawURL string, secrets ...string) {
	t.Helper()
	s, err := Open(t.Context(), rawURL, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := s.Put(t.Context(), "k", BytesPayload([]byte("hello"))); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if info, err := s.Stat(t.Context(), "k"); err != nil || info.Size != 5 {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	for _, secret := range secrets {
		if strings.Contains(s.String(), secret) {
			t.Errorf("String() %q contains a secret", s.String())
		}
	}
}

func TestS3EndpointSources(t *testing.T) {
	minio := testenv.MinIO(t)
	isolateFromUserConfig(t)
	t.Setenv("AWS_ACCESS_KEY_ID", minio.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", minio.SecretKey)
	tests := []struct {
		name string
		env  map[string]string
		url  func(bucket string) string
	}{
		{"endpoint and region in the URL", nil, func(b string) string {
			return "s3://" + b + "/app?endpoint=" + url.QueryEscape(minio.Endpoint) + "&region=" + minio.Region
		}},
		{"AWS_ENDPOINT_URL_S3", map[string]string{"AWS_ENDPOINT_URL_S3": minio.Endpoint, "AWS_REGION": minio.Region},
			func(b string) string { return "s3://" + b }},
		{"AWS_ENDPOINT_URL, default region", map[string]string{"AWS_ENDPOINT_URL": minio.Endpoint},
			func(b string) string { return "s3://" + b + "?path-style=true" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION"} {
				t.Setenv(k, tt.env[k])
			}
			bucket := uniqueName("bucket")
			minio.CreateBucket(t, bucket)
			roundTrip(t, tt.url(bucket), minio.SecretKey, minio.AccessKey)
		})
	}
}

func TestS3WithoutCredentials(t *testing.T) {
	minio := testenv.MinIO(t)
	isolateFromUserConfig(t)
	t.Setenv("AWS_ENDPOINT_URL_S3", minio.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	bucket := uniqueName("bucket")
	minio.CreateBucket(t, bucket)
	_, err := Open(t.Context(), "s3://"+bucket, Options{})
	if err == nil || !errors.Is(err, ErrAccessDenied) || exitcode.Of(err) != exitcode.BadInput ||
		!strings.Contains(err.Error(), bucket) {
		t.Fatalf("Open without credentials = %v; want a bad-input access error naming %s", err, bucket)
	}
	t.Logf("error: %v", err)
}

func TestAzureCredentialSources(t *testing.T) {
	azurite := testenv.Azurite(t)
	isolateFromUserConfig(t)
	ctx := t.Context()
	newContainer := func(t *testing.T) (name, sasQuery string) {
		name = uniqueName("container")
		cred, err := container.NewSharedKeyCredential(azurite.AccountName, azurite.AccountKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := container.NewClientWithSharedKeyCredential(azurite.Endpoint+"/"+name, cred, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(ctx, nil); err != nil {
			t.Fatal(err)
		}
		sasURL, err := c.GetSASURL(sas.ContainerPermissions{Read: true, Write: true, Create: true, List: true, Delete: true},
			time.Now().Add(time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(sasURL)
		return name, u.RawQuery
	}
	sigOf := func(query string) string {
		v, _ := url.ParseQuery(query)
		return v.Get("sig")
	}
	tests := []struct {
		name string
		open func(t *testing.T, container, sasQuery string) (rawURL string, secrets []string)
	}{
		{"SAS in the URL", func(t *testing.T, c, q string) (string, []string) {
			return azurite.Endpoint + "/" + c + "/app?" + q, []string{sigOf(q)}
		}},
		{"AZURE_STORAGE_SAS_TOKEN", func(t *testing.T, c, q string) (string, []string) {
			t.Setenv("AZURE_STORAGE_SAS_TOKEN", "?"+q)
			return azurite.Endpoint + "/" + c, []string{sigOf(q)}
		}},
		{"AZURE_STORAGE_KEY with the emulator URL", func(t *testing.T, c, _ string) (string, []string) {
			t.Setenv("AZURE_STORAGE_KEY", azurite.AccountKey)
			return azurite.Endpoint + "/" + c, []string{azurite.AccountKey}
		}},
		{"connection string with a SAS", func(t *testing.T, c, q string) (string, []string) {
			t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "BlobEndpoint="+azurite.Endpoint+";SharedAccessSignature="+q)
			return "azblob://" + c, []string{sigOf(q)}
		}},
		{"connection string with a key", func(t *testing.T, c, _ string) (string, []string) {
			t.Setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.ConnectionString)
			return "azblob://" + c + "/app", []string{azurite.AccountKey}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"} {
				t.Setenv(k, "")
			}
			c, q := newContainer(t)
			rawURL, secrets := tt.open(t, c, q)
			roundTrip(t, rawURL, secrets...)
		})
	}
}

func TestAzureBadSAS(t *testing.T) {
	azurite := testenv.Azurite(t)
	isolateFromUserConfig(t)
	const sig = "AAAAbadsignatureAAAA"
	rawURL := azurite.Endpoint + "/somecontainer?sv=2021-08-06&sr=c&sp=rl&se=2099-01-01T00%3A00%3A00Z&sig=" + sig
	_, err := Open(context.Background(), rawURL, Options{})
	if err == nil || !errors.Is(err, ErrAccessDenied) || strings.Contains(err.Error(), sig) ||
		!strings.Contains(err.Error(), "somecontainer") {
		t.Fatalf("Open with a bad SAS = %v; want access denied naming the container, without the signature", err)
	}
}
