package testenv

import (
	"io"
	"net/url"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

func TestAzuriteServesBlobsOnLoopback(t *testing.T) {
	srv := Azurite(t)
	u, err := url.Parse(srv.Endpoint)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("Endpoint %q is not on 127.0.0.1 (%v)", srv.Endpoint, err)
	}
	client, err := azblob.NewClientFromConnectionString(srv.ConnectionString, nil)
	if err != nil {
		t.Fatalf("client from connection string: %v", err)
	}
	ctx := t.Context()
	if _, err := client.CreateContainer(ctx, "roundtrip", nil); err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if _, err := client.UploadBuffer(ctx, "roundtrip", "k", []byte("hello"), nil); err != nil {
		t.Fatalf("UploadBuffer: %v", err)
	}
	resp, err := client.DownloadStream(ctx, "roundtrip", "k", nil)
	if err != nil {
		t.Fatalf("DownloadStream: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "hello" {
		t.Fatalf("body = %q, %v; want %q", body, err, "hello")
	}
}
