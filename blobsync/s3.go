package blobsync

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func init() { Register(openS3Store, "s3") }

// Blobs above s3MultipartThreshold go up in parts of s3PartSize. They are
// variables so that tests can exercise multipart with small blobs; S3's
// minimum part size is 5 MiB.
var (
	s3MultipartThreshold int64 = 64 << 20
	s3PartSize           int64 = 16 << 20
)

const (
	s3MaxParts        = 10000 // S3's limit per upload
	s3PartConcurrency = 4     // parts of one blob in flight; blobs already run in parallel
	s3MD5Meta         = "md5" // x-amz-meta-md5: hex MD5, because a multipart ETag is not one
)

// s3Store keeps objects in an S3 (or S3-compatible) bucket under a prefix.
type s3Store struct {
	client    *s3.Client
	transport *http.Transport
	bucket    string
	prefix    string // "" or ending in "/"
	name      string // String(), computed once
	threshold int64  // s3MultipartThreshold when opened
	partSize  int64  // s3PartSize when opened
	region    string // the region requests are signed for
	// regionFound: region came from the bucket, not from the configuration.
	regionFound bool
	sse         s3Encryption
	identity    string // where the credentials came from; no secret
	closed      closeFlag
}

// openS3Store opens s3://BUCKET[/PREFIX][?region=R&endpoint=URL&path-style=true&sse=MODE&sse-kms-key-id=KEY].
// Credentials come from the SDK's default chain (environment, shared config
// and profiles, web identity / IRSA, container and instance roles); the
// region from ?region=, the environment or the profile, else from the
// bucket itself; the endpoint also from AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL, which the SDK reads itself.
func openS3Store(ctx context.Context, u *url.URL, opts Options) (Store, error) {
	if u.Host == "" {
		return nil, badInput(errors.New("s3 store: missing bucket; use s3://BUCKET[/PREFIX]"))
	}
	q := u.Query()
	known := []string{"region", "endpoint", "path-style", "sse", "sse-kms-key-id"}
	for k := range q {
		if !slices.Contains(known, k) {
			return nil, badInput(fmt.Errorf("s3://%s: unknown query parameter %q (known: %s)", u.Host, k, strings.Join(known, ", ")))
		}
	}
	pathStyle := false
	if v := q.Get("path-style"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, badInput(fmt.Errorf("s3://%s: path-style=%q is not a boolean", u.Host, v))
		}
		pathStyle = b
	}
	sse, err := parseEncryption(q)
	if err != nil {
		return nil, badInput(fmt.Errorf("s3://%s: %w", u.Host, err))
	}

	var loadOpts []func(*config.LoadOptions) error
	if region := q.Get("region"); region != "" {
		loadOpts = append(loadOpts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, badInput(fmt.Errorf("s3://%s: load AWS configuration: %w", u.Host, err))
	}
	// Ask for credentials now: without any, the SDK would only say so deep
	// inside the first request's error.
	identity := "anonymous"
	if cfg.Credentials != nil {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, badInput(&opError{store: "s3://" + u.Host, op: "open", kind: ErrAccessDenied,
				detail: "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, " +
					"a web identity (AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE), or use a container or instance role",
				cause: err})
		}
		identity = awsIdentity(creds)
	}
	transport := newHTTPTransport()
	endpoint := q.Get("endpoint")
	newClient := func(region string) *s3.Client {
		return s3.NewFromConfig(cfg, func(o *s3.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
			// S3-compatible servers (MinIO, Ceph, ...) seldom resolve
			// bucket subdomains, so a custom endpoint implies path style.
			o.UsePathStyle = pathStyle || o.BaseEndpoint != nil
			o.Region = region
			// Integrity comes from Content-MD5, which every S3-compatible
			// server checks; the SDK's default CRC trailers are not supported
			// everywhere and would conflict with it.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			// Retries belong to WithRetry, not to each SDK call.
			o.Retryer = aws.NopRetryer{}
			o.HTTPClient = &http.Client{
				Transport: transport,
				// S3 answers a wrong region with a redirect; report it.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
		})
	}

	s := &s3Store{
		transport: transport,
		bucket:    u.Host,
		prefix:    folderPrefix(u.Path),
		threshold: s3MultipartThreshold,
		partSize:  s3PartSize,
		region:    cfg.Region,
		sse:       sse,
		identity:  identity,
	}
	s.name = strings.TrimSuffix("s3://"+s.bucket+"/"+s.prefix, "/")
	custom := endpoint != "" || newClient("").Options().BaseEndpoint != nil
	if ep := newClient("").Options().BaseEndpoint; ep != nil {
		s.name += " at " + endpointHost(*ep)
	}
	if s.region == "" {
		// Any region signs the question; the answer names the bucket's.
		region, err := bucketRegion(ctx, newClient("us-east-1"), s.bucket)
		if err != nil {
			transport.CloseIdleConnections()
			return nil, s.wrapErr("find the bucket's region", "", err)
		}
		switch {
		case region != "":
			s.region, s.regionFound = region, true
		case custom:
			s.region = "us-east-1" // what S3-compatible servers assume
		default:
			transport.CloseIdleConnections()
			return nil, badInput(fmt.Errorf("%s: no AWS region configured and S3 did not name the bucket's (does it exist?); set AWS_REGION or add ?region=", s))
		}
	}
	s.client = newClient(s.region)
	if err := s.checkBucket(ctx, opts.Create); err != nil {
		transport.CloseIdleConnections()
		return nil, err
	}
	return s, nil
}

// Identity says where the AWS credentials came from, the region and how it
// was chosen, and the encryption asked for.
func (s *s3Store) Identity() string {
	id := s.identity + ", region " + s.region
	if s.regionFound {
		id += " (the bucket's, found)"
	}
	if e := s.sse.String(); e != "" {
		id += ", " + e
	}
	return id
}

// endpointHost is scheme://host of an endpoint URL, without any user info.
func endpointHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "a custom endpoint"
	}
	return u.Scheme + "://" + u.Host
}

// checkBucket fails early, with an error naming the bucket, when it is
// missing or the credentials cannot use it. It lists one key rather than
// calling HeadBucket: both need s3:ListBucket, but only a listing's error
// body says whether the key id or the signature was wrong.
func (s *s3Store) checkBucket(ctx context.Context, create bool) error {
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix), MaxKeys: aws.Int32(1),
	})
	if err == nil {
		return nil
	}
	if actual := regionInError(err); actual != "" && actual != s.region {
		return errWrongRegion(s, actual)
	}
	err = s.wrapErr("open", "", err)
	switch {
	case errors.Is(err, ErrNotExist) && create:
		return s.createBucket(ctx)
	case errors.Is(err, ErrNotExist):
		return errMissingLocation(s, "bucket", s.bucket)
	case errors.Is(err, ErrAccessDenied):
		return badInput(err)
	}
	return err
}

func (s *s3Store) createBucket(ctx context.Context) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}
	// us-east-1 is the default location and must not be named.
	if region := s.client.Options().Region; region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(region),
		}
	}
	_, err := s.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return s.wrapErr("create bucket", "", err)
	}
	return nil
}

func (s *s3Store) String() string { return s.name }

func (s *s3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := s.closed.checkCall(s, "stat", key); err != nil {
		return ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		return ObjectInfo{}, s.wrapErr("stat", key, err)
	}
	return ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), MD5: headMD5(out)}, nil
}

// headMD5 finds the object's MD5: the metadata Put records, else a
// single-part ETag, which is the MD5 unless SSE-KMS or SSE-C encrypted it.
func headMD5(out *s3.HeadObjectOutput) []byte {
	if sum, err := hex.DecodeString(out.Metadata[s3MD5Meta]); err == nil && len(sum) == md5.Size {
		return sum
	}
	return etagMD5(out.ETag, out.ServerSideEncryption, out.SSECustomerAlgorithm)
}

// etagMD5 is the MD5 an ETag stands for: a plain 32-digit hex ETag is the
// MD5 of the object's bytes, computed by the server, unless SSE-KMS or
// SSE-C encrypted it. A multipart ETag ("…-N") is not one; nil then.
func etagMD5(etag *string, sse types.ServerSideEncryption, sseCustomerAlgorithm *string) []byte {
	if sseCustomerAlgorithm != nil || strings.HasPrefix(string(sse), "aws:kms") {
		return nil
	}
	if sum, err := hex.DecodeString(strings.Trim(aws.ToString(etag), `"`)); err == nil && len(sum) == md5.Size {
		return sum
	}
	return nil
}

// Put confirms a single-request upload by the response's ETag, which the
// server computes over the bytes it stored (and Content-MD5 already made
// it refuse bytes damaged on the way). A multipart upload's ETag is no
// MD5, so its result carries none and the caller Stats.
func (s *s3Store) Put(ctx context.Context, key string, p Payload) (ObjectInfo, error) {
	if err := s.closed.checkCall(s, "put", key); err != nil {
		return ObjectInfo{}, err
	}
	sum, err := payloadMD5(p)
	if err != nil {
		return ObjectInfo{}, &opError{store: s.name, op: "put", key: key, detail: err.Error(), cause: err}
	}
	sent := ObjectInfo{Key: key, Size: p.Size()}
	if p.Size() > s.threshold {
		if err := s.putMultipart(ctx, key, p, sum); err != nil {
			return ObjectInfo{}, err
		}
		return sent, nil
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.prefix + key),
		Body:          io.NewSectionReader(p, 0, p.Size()),
		ContentLength: aws.Int64(p.Size()),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(sum)),
		Metadata:      map[string]string{s3MD5Meta: hex.EncodeToString(sum)},
	}
	s.sse.applyPut(in)
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	sent.MD5 = etagMD5(out.ETag, out.ServerSideEncryption, out.SSECustomerAlgorithm)
	return sent, nil
}

// putMultipart uploads p in parts read straight from the ReaderAt, so no
// part is buffered in memory, each with its own Content-MD5. The whole
// blob's MD5 goes into the metadata because the final ETag is not an MD5.
// A failed upload is aborted so no orphaned parts keep costing storage.
func (s *s3Store) putMultipart(ctx context.Context, key string, p Payload, sum []byte) error {
	in := &s3.CreateMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(s.prefix + key),
		Metadata: map[string]string{s3MD5Meta: hex.EncodeToString(sum)},
	}
	s.sse.applyMultipart(in)
	created, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return s.wrapErr("put", key, err)
	}
	parts, err := s.putParts(ctx, key, created.UploadId, p, sum)
	if err == nil {
		_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          aws.String(s.bucket),
			Key:             aws.String(s.prefix + key),
			UploadId:        created.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if err != nil {
			err = s.wrapErr("put", key, err)
		}
	}
	if err != nil {
		// Abort even when ctx was cancelled: that is when it matters most.
		abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key), UploadId: created.UploadId,
		})
		return err
	}
	return nil
}

func (s *s3Store) putParts(ctx context.Context, key string, uploadID *string, p Payload, sum []byte) ([]types.CompletedPart, error) {
	size := p.Size()
	partSize := max(s.partSize, (size+s3MaxParts-1)/s3MaxParts)
	parts := make([]types.CompletedPart, (size+partSize-1)/partSize)
	err := uploadParts(ctx, p, partSize, s3PartConcurrency, sum, func(ctx context.Context, i int, part *io.SectionReader, partMD5 []byte) error {
		number := aws.Int32(int32(i + 1))
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(s.prefix + key),
			UploadId:      uploadID,
			PartNumber:    number,
			Body:          part,
			ContentLength: aws.Int64(part.Size()),
			ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(partMD5)),
		})
		if err != nil {
			return s.wrapErr("put", key, err)
		}
		parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: number}
		return nil
	})
	return parts, partsError(s.name, key, err)
}

func (s *s3Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := s.closed.checkCall(s, "open", key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		return nil, s.wrapErr("open", key, err)
	}
	return out.Body, nil
}

// List leaves MD5 nil: a listing's ETag may not be an MD5 and the listing
// cannot tell. A multipart ETag ("…-N") shows it is none, and is dropped;
// a plain 32-digit one is the MD5 of the bytes unless SSE-KMS or SSE-C
// encrypted the object (its ETag is then an opaque digest), which only
// HeadObject reports. So a plain ETag goes into MaybeMD5: equal to a blob's
// MD5 it proves the object holds that blob without a HEAD (an opaque
// digest equal to it would take an MD5 collision); unequal, the Syncer
// asks HeadObject as before.
func (s *s3Store) List(ctx context.Context, fn func(ObjectInfo) error) error {
	if err := s.closed.check(s, "list", ""); err != nil {
		return err
	}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.wrapErr("list", "", err)
		}
		for _, obj := range page.Contents {
			info := ObjectInfo{Key: strings.TrimPrefix(aws.ToString(obj.Key), s.prefix), Size: aws.ToInt64(obj.Size),
				MaybeMD5: etagMD5(obj.ETag, "", nil)}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *s3Store) Delete(ctx context.Context, key string) error {
	if err := s.closed.checkCall(s, "delete", key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	var apiErr smithy.APIError
	if err != nil && !(errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchKey") {
		return s.wrapErr("delete", key, err)
	}
	return nil
}

func (s *s3Store) Close() error {
	s.closed.set()
	s.transport.CloseIdleConnections()
	return nil
}

// s3 error codes that mean the same as one of our kinds.
var (
	s3NotFoundCodes = map[string]bool{"NoSuchKey": true, "NotFound": true, "NoSuchBucket": true}
	s3DeniedCodes   = map[string]bool{
		"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
		"InvalidToken": true, "ExpiredToken": true, "AllAccessDisabled": true, "Forbidden": true,
		"AccountProblem": true, "InvalidSecurity": true,
	}
	// BadDigest: the bytes were damaged on the way; the payload is
	// re-readable, so another attempt sends them again.
	s3TemporaryCodes = map[string]bool{"InternalError": true, "BadDigest": true, "IncompleteBody": true}
)

// wrapErr turns an SDK error into an opError with a kind and a short detail:
// HTTP status, S3 error code and message, none of which hold credentials.
func (s *s3Store) wrapErr(op, key string, err error) error {
	e := &opError{store: s.name, op: op, key: key, cause: err}
	var status int
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	var code string
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
		e.detail = strings.TrimSpace(fmt.Sprintf("HTTP %d %s: %s", status, code, apiErr.ErrorMessage()))
	} else {
		e.detail = safeText(err)
	}
	_, throttle := retry.DefaultThrottleErrorCodes[code]
	_, temporaryStatus := retry.DefaultRetryableHTTPStatusCodes[status]
	switch {
	case errors.Is(err, context.Canceled):
	case s3NotFoundCodes[code] || status == http.StatusNotFound:
		e.kind = ErrNotExist
	case s3DeniedCodes[code] || status == http.StatusForbidden || status == http.StatusUnauthorized:
		e.kind = ErrAccessDenied
	case throttle || status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		e.kind = ErrThrottled
	case temporaryStatus || s3TemporaryCodes[code] || retry.RetryableErrorCode{Codes: retry.DefaultRetryableErrorCodes}.IsErrorRetryable(err) == aws.TrueTernary:
		e.kind = ErrTemporary
	case retry.RetryableConnectionError{}.IsErrorRetryable(err) == aws.TrueTernary:
		e.kind = ErrTemporary
	default:
		e.kind = networkKind(err)
	}
	return e
}

func (s *s3Store) listShowsEveryKey() {}
