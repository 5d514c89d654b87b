package testenv

import (
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestMinIOServesS3OnLoopback(t *testing.T) {
	srv := MinIO(t)
	u, err := url.Parse(srv.Endpoint)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("Endpoint %q is not on 127.0.0.1 (%v)", srv.Endpoint, err)
	}
	if srv.AccessKey == "" || srv.SecretKey == "" || srv.AccessKey == srv.SecretKey {
		t.Fatalf("credentials must be random and distinct, got %q / %q", srv.AccessKey, srv.SecretKey)
	}

	srv.CreateBucket(t, "roundtrip")
	client := srv.Client()
	ctx := t.Context()
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("roundtrip"), Key: aws.String("k"), Body: strings.NewReader("hello"),
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("roundtrip"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil || string(body) != "hello" {
		t.Fatalf("GetObject body = %q, %v; want %q", body, err, "hello")
	}
}

func TestMinIOServersAreIsolated(t *testing.T) {
	a, b := MinIO(t), MinIO(t)
	if a.Endpoint == b.Endpoint {
		t.Fatalf("two servers share %s", a.Endpoint)
	}
	a.CreateBucket(t, "only-in-a")
	out, err := b.Client().ListBuckets(t.Context(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(out.Buckets) != 0 {
		t.Fatalf("second server sees %d buckets, want 0", len(out.Buckets))
	}
}
