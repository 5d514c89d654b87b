package blobsync

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// regionalMinIO is a MinIO in eu-west-3 with a KMS key, reached through
// the SDK's default chain with no region configured.
func regionalMinIO(t *testing.T) (*testenv.MinIOServer, string) {
	minio := testenv.MinIOWith(t, testenv.MinIOOptions{Region: "eu-west-3", KMS: true})
	isolateFromUserConfig(t)
	for k, v := range minio.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_REGION", "")
	bucket := uniqueName("region")
	minio.CreateBucket(t, bucket)
	return minio, bucket
}

func TestS3RegionDiscovery(t *testing.T) {
	_, bucket := regionalMinIO(t)
	tests := []struct {
		name, url, env, identity, wantErr string
	}{
		{name: "no region: found", url: "s3://" + bucket + "/app",
			identity: "AWS access key from the environment (AWS_ACCESS_KEY_ID), region eu-west-3 (the bucket's, found)"},
		{name: "the right region configured", url: "s3://" + bucket, env: "eu-west-3",
			identity: "AWS access key from the environment (AWS_ACCESS_KEY_ID), region eu-west-3"},
		{name: "the right region in the URL", url: "s3://" + bucket + "?region=eu-west-3",
			identity: "AWS access key from the environment (AWS_ACCESS_KEY_ID), region eu-west-3"},
		{name: "another region in the URL", url: "s3://" + bucket + "?region=us-west-2",
			wantErr: "the bucket is in region eu-west-3, not in us-west-2 as configured"},
		{name: "another region in the environment", url: "s3://" + bucket, env: "ap-south-1",
			wantErr: "the bucket is in region eu-west-3, not in ap-south-1 as configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", tc.env)
			s, err := Open(t.Context(), tc.url, Options{})
			if tc.wantErr != "" {
				if err == nil {
					s.Close()
					t.Fatal("opened a bucket of another region")
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "use ?region=eu-west-3") ||
					exitcode.Of(err) != exitcode.BadInput {
					t.Fatalf("got %v (exit %d), want %q and the fix, exit %d", err, exitcode.Of(err), tc.wantErr, exitcode.BadInput)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := IdentityOf(s); got != tc.identity {
				t.Errorf("identity %q, want %q", got, tc.identity)
			}
			if _, err := s.Put(t.Context(), "k", BytesPayload([]byte("regional"))); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if info, err := s.Stat(t.Context(), "k"); err != nil || info.Size != 8 {
				t.Fatalf("Stat: %+v, %v", info, err)
			}
		})
	}
}

func TestS3ServerSideEncryption(t *testing.T) {
	minio, bucket := regionalMinIO(t)
	old, oldPart := s3MultipartThreshold, s3PartSize
	s3MultipartThreshold, s3PartSize = 5<<20, 5<<20
	t.Cleanup(func() { s3MultipartThreshold, s3PartSize = old, oldPart })
	admin := minio.Client()
	tests := []struct {
		query    string
		mode     types.ServerSideEncryption
		keyID    string
		identity string
	}{
		{"?sse=AES256", types.ServerSideEncryptionAes256, "", ", SSE-S3"},
		{"?sse=aws:kms&sse-kms-key-id=" + minio.KMSKeyID, types.ServerSideEncryptionAwsKms, minio.KMSKeyID, ", SSE-KMS with key " + minio.KMSKeyID},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			s := openStore(t, "s3://"+bucket+"/sse"+tc.query)
			if !strings.HasSuffix(IdentityOf(s), tc.identity) {
				t.Errorf("identity %q lacks %q", IdentityOf(s), tc.identity)
			}
			for _, size := range []int{100, 6 << 20} { // one request, and multipart
				key := uniqueName("blob")
				data := bytes.Repeat([]byte{'x'}, size)
				if _, err := s.Put(t.Context(), key, BytesPayload(data)); err != nil {
					t.Fatalf("Put %d bytes: %v", size, err)
				}
				head, err := admin.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("sse/" + key)})
				if err != nil {
					t.Fatal(err)
				}
				if head.ServerSideEncryption != tc.mode || (tc.keyID != "" && !strings.HasSuffix(aws.ToString(head.SSEKMSKeyId), tc.keyID)) {
					t.Errorf("%d bytes stored with %q key %q, want %q key %q", size, head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId), tc.mode, tc.keyID)
				}
				if info, err := s.Stat(t.Context(), key); err != nil || info.Size != int64(size) {
					t.Errorf("Stat: %+v, %v", info, err)
				}
			}
		})
	}
}

func TestParseEncryption(t *testing.T) {
	tests := []struct {
		query, want, wantErr string
	}{
		{"", "", ""},
		{"sse=AES256", "SSE-S3", ""},
		{"sse=sse-s3", "SSE-S3", ""},
		{"sse=aws:kms", "SSE-KMS with the AWS managed key", ""},
		{"sse=SSE-KMS&sse-kms-key-id=arn:aws:kms:eu-west-3:1:key/k", "SSE-KMS with key arn:aws:kms:eu-west-3:1:key/k", ""},
		{"sse-kms-key-id=k", "SSE-KMS with key k", ""},
		{"sse=AES256&sse-kms-key-id=k", "", "goes with sse=aws:kms"},
		{"sse=DES", "", "sse=DES: want AES256"},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.query)
		e, err := parseEncryption(q)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: got %v, want an error with %q", tc.query, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || e.String() != tc.want):
			t.Errorf("%s: got %q, %v; want %q", tc.query, e.String(), err, tc.want)
		}
	}
}

func TestS3IdentityNamesNoSecret(t *testing.T) {
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/mx")
	t.Setenv("AWS_PROFILE", "")
	tests := map[string]string{
		"EnvConfigCredentials":                  "AWS access key from the environment (AWS_ACCESS_KEY_ID)",
		"SharedConfigCredentials: /home/x/.aws": "AWS access key from the shared credentials of profile default",
		"WebIdentityCredentials":                "AWS web identity role arn:aws:iam::123456789012:role/mx (IAM roles for service accounts)",
		"EC2RoleProvider":                       "AWS EC2 instance role",
		"CredentialsEndpointProvider":           "AWS container role (ECS task role or EKS Pod Identity)",
	}
	for src, want := range tests {
		got := awsIdentity(aws.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "wJalrSecret", Source: src})
		if got != want || strings.Contains(got, "AKIA") || strings.Contains(got, "Secret") {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
	if !errors.Is(errWrongRegion(&s3Store{name: "s3://b", region: "a"}, "b"), ErrAccessDenied) {
		t.Error("a wrong region is not an access error")
	}
}
