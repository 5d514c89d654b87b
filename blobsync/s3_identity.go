package blobsync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// s3RegionHeader is where S3 says a bucket's region: on HeadBucket's
// success and on its refusals alike (a redirect to the bucket's region, a
// 403), and S3-compatible servers such as MinIO on every answer.
const s3RegionHeader = "X-Amz-Bucket-Region"

// bucketRegion asks where bucket lives with a HeadBucket through client
// (signed for any region). "" with a nil error: the answer did not say
// (the bucket may not exist).
func bucketRegion(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	out, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return aws.ToString(out.BucketRegion), nil
	}
	if r := regionInError(err); r != "" {
		return r, nil
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		return "", nil // an answer without a region: not found, or not S3
	}
	return "", err
}

// regionInError is the bucket region an S3 error response names, if any.
func regionInError(err error) string {
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.Response != nil {
		return respErr.Response.Header.Get(s3RegionHeader)
	}
	return ""
}

// errWrongRegion: the bucket is not in the configured region.
func errWrongRegion(s *s3Store, actual string) error {
	return badInput(&opError{store: s.name, op: "open", kind: ErrAccessDenied,
		detail: fmt.Sprintf("the bucket is in region %s, not in %s as configured (?region=, AWS_REGION or the AWS profile): "+
			"use ?region=%s, or configure no region and mxmigrate finds it", actual, s.region, actual)})
}

// s3Encryption is the server-side encryption a store asks for on every
// upload, for buckets whose policy refuses objects without it.
type s3Encryption struct {
	mode     types.ServerSideEncryption // "" (the bucket's default), AES256 or aws:kms
	kmsKeyID string                     // aws:kms only; "" = the AWS managed key
}

// parseEncryption reads sse=AES256|aws:kms (also sse-s3, sse-kms) and
// sse-kms-key-id=KEY from a store URL's query.
func parseEncryption(q url.Values) (s3Encryption, error) {
	var e s3Encryption
	switch v := strings.ToLower(q.Get("sse")); v {
	case "":
	case "aes256", "sse-s3":
		e.mode = types.ServerSideEncryptionAes256
	case "aws:kms", "sse-kms", "kms":
		e.mode = types.ServerSideEncryptionAwsKms
	default:
		return e, fmt.Errorf("sse=%s: want AES256 (SSE-S3) or aws:kms (SSE-KMS, with sse-kms-key-id= for a key of your own)", q.Get("sse"))
	}
	e.kmsKeyID = q.Get("sse-kms-key-id")
	if e.kmsKeyID != "" && e.mode == "" {
		e.mode = types.ServerSideEncryptionAwsKms
	}
	if e.kmsKeyID != "" && e.mode != types.ServerSideEncryptionAwsKms {
		return e, errors.New("sse-kms-key-id= goes with sse=aws:kms, not sse=AES256")
	}
	return e, nil
}

func (e s3Encryption) String() string {
	switch {
	case e.kmsKeyID != "":
		return "SSE-KMS with key " + e.kmsKeyID
	case e.mode == types.ServerSideEncryptionAwsKms:
		return "SSE-KMS with the AWS managed key"
	case e.mode != "":
		return "SSE-S3"
	}
	return ""
}

func (e s3Encryption) applyPut(in *s3.PutObjectInput) {
	in.ServerSideEncryption = e.mode
	if e.kmsKeyID != "" {
		in.SSEKMSKeyId = aws.String(e.kmsKeyID)
	}
}

func (e s3Encryption) applyMultipart(in *s3.CreateMultipartUploadInput) {
	in.ServerSideEncryption = e.mode
	if e.kmsKeyID != "" {
		in.SSEKMSKeyId = aws.String(e.kmsKeyID)
	}
}

// awsIdentity names the source of AWS credentials (aws.Credentials.Source,
// as the SDK's providers set it), never the keys themselves.
func awsIdentity(creds aws.Credentials) string {
	src := creds.Source
	switch {
	case src == "":
		return "AWS credentials"
	case strings.HasPrefix(src, "EnvConfigCredentials"):
		return "AWS access key from the environment (AWS_ACCESS_KEY_ID)"
	case strings.HasPrefix(src, "SharedConfigCredentials"):
		return "AWS access key from the shared credentials of profile " + awsProfile()
	case src == "WebIdentityCredentials":
		return "AWS web identity role " + os.Getenv("AWS_ROLE_ARN") + " (IAM roles for service accounts)"
	case src == "AssumeRoleProvider":
		return "AWS role assumed by profile " + awsProfile()
	case src == "EC2RoleProvider":
		return "AWS EC2 instance role"
	case src == "CredentialsEndpointProvider":
		return "AWS container role (ECS task role or EKS Pod Identity)"
	case src == "SSOProvider":
		return "AWS IAM Identity Center (SSO) profile " + awsProfile()
	case src == "ProcessProvider":
		return "AWS credential process of profile " + awsProfile()
	}
	return "AWS credentials from " + src
}

func awsProfile() string {
	if p := os.Getenv("AWS_PROFILE"); p != "" {
		return p
	}
	return "default"
}
