package blobsync

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

func init() { Register(openAzureStore, "azblob", "https", "http") }

// Blobs above azureSingleUploadMax go up as staged blocks of azureBlockSize.
// They are variables so that tests can exercise blocks with small blobs.
var (
	azureSingleUploadMax int64 = 64 << 20
	azureBlockSize       int64 = 8 << 20
)

const (
	azureMaxBlocks        = 50000 // Azure's limit per blob
	azureBlockConcurrency = 4     // blocks of one blob in flight; blobs already run in parallel
)

// azureStore keeps objects in an Azure Blob Storage container under a prefix.
type azureStore struct {
	client    *container.Client
	transport *http.Transport
	container string
	prefix    string // "" or ending in "/"
	name      string // String(), computed once
	singleMax int64  // azureSingleUploadMax when opened
	blockSize int64  // azureBlockSize when opened
	closed    closeFlag
}

func openAzureStore(ctx context.Context, u *url.URL, opts Options) (Store, error) {
	acct, containerName, path, err := azureLocation(u)
	if err != nil {
		return nil, badInput(err)
	}
	if containerName == "" {
		return nil, badInput(errors.New("azure blob store: missing container; use azblob://CONTAINER[/PREFIX]"))
	}
	transport := newHTTPTransport()
	clientOpts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry:     policy.RetryOptions{MaxRetries: -1}, // retries belong to WithRetry
		Transport: &http.Client{Transport: transport},
	}}
	containerURL := acct.endpoint + url.PathEscape(containerName)
	var client *container.Client
	if acct.key != "" {
		cred, err := container.NewSharedKeyCredential(acct.name, acct.key)
		if err != nil {
			return nil, badInput(fmt.Errorf("azure account %q: invalid account key: %w", acct.name, err))
		}
		client, err = container.NewClientWithSharedKeyCredential(containerURL, cred, clientOpts)
		if err != nil {
			return nil, badInput(fmt.Errorf("azure container %s: %w", containerURL, err))
		}
	} else {
		client, err = container.NewClientWithNoCredential(containerURL+"?"+acct.sas, clientOpts)
		if err != nil {
			return nil, badInput(fmt.Errorf("azure container %s: %w", containerURL, err))
		}
	}
	s := &azureStore{
		client:    client,
		transport: transport,
		container: containerName,
		prefix:    folderPrefix(path),
		name: strings.TrimSuffix("azblob://"+containerName+"/"+folderPrefix(path), "/") +
			" at " + strings.TrimSuffix(acct.endpoint, "/"),
		singleMax: azureSingleUploadMax,
		blockSize: azureBlockSize,
	}
	if err := s.checkContainer(ctx, opts.Create); err != nil {
		transport.CloseIdleConnections()
		return nil, err
	}
	return s, nil
}

// checkContainer fails early, naming the container, when it is missing or
// the credentials cannot use it. A one-blob listing works with both shared
// keys and container SAS tokens (which cannot read container properties).
func (s *azureStore) checkContainer(ctx context.Context, create bool) error {
	pager := s.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &s.prefix, MaxResults: ptr(int32(1))})
	_, err := pager.NextPage(ctx)
	if err == nil {
		return nil
	}
	err = s.wrapErr("open", "", err)
	switch {
	case errors.Is(err, ErrNotExist) && create:
		_, err := s.client.Create(ctx, nil)
		if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return s.wrapErr("create container", "", err)
		}
		return nil
	case errors.Is(err, ErrNotExist):
		return errMissingLocation(s, "container", s.container)
	case errors.Is(err, ErrAccessDenied):
		return badInput(err)
	}
	return err
}

func (s *azureStore) String() string { return s.name }

func (s *azureStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := s.closed.checkCall(s, "stat", key); err != nil {
		return ObjectInfo{}, err
	}
	props, err := s.client.NewBlobClient(s.prefix+key).GetProperties(ctx, nil)
	if err != nil {
		return ObjectInfo{}, s.wrapErr("stat", key, err)
	}
	info := ObjectInfo{Key: key, Size: deref(props.ContentLength)}
	if len(props.ContentMD5) == md5.Size {
		info.MD5 = props.ContentMD5
	}
	return info, nil
}

// Put confirms a single upload by the Content-MD5 of the response, which
// the service computes over the bytes it received. A staged upload has no
// such answer: the commit's Content-MD5 is that of the block list it sent,
// not of the blob, so its result carries no MD5 and the caller Stats.
func (s *azureStore) Put(ctx context.Context, key string, p Payload) (ObjectInfo, error) {
	if err := s.closed.checkCall(s, "put", key); err != nil {
		return ObjectInfo{}, err
	}
	sum, err := payloadMD5(p)
	if err != nil {
		return ObjectInfo{}, &opError{store: s.name, op: "put", key: key, detail: safeText(err), cause: err}
	}
	sent := ObjectInfo{Key: key, Size: p.Size()}
	blockBlob := s.client.NewBlockBlobClient(s.prefix + key)
	if p.Size() > s.singleMax {
		if err := s.putBlocks(ctx, blockBlob, key, p, sum); err != nil {
			return ObjectInfo{}, err
		}
		return sent, nil
	}
	resp, err := blockBlob.Upload(ctx, streaming.NopCloser(io.NewSectionReader(p, 0, p.Size())), &blockblob.UploadOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(sum),
		HTTPHeaders:             &blob.HTTPHeaders{BlobContentMD5: sum},
	})
	if err != nil {
		return ObjectInfo{}, s.wrapErr("put", key, err)
	}
	if len(resp.ContentMD5) == md5.Size {
		sent.MD5 = resp.ContentMD5
	}
	return sent, nil
}

// putBlocks stages p in blocks read straight from the ReaderAt, each with a
// transactional MD5, then commits them with the whole blob's MD5. Until the
// commit the blob is unchanged; Azure discards uncommitted blocks itself.
// Block ids carry a random token so that two attempts never mix blocks.
func (s *azureStore) putBlocks(ctx context.Context, blockBlob *blockblob.Client, key string, p Payload, sum []byte) error {
	size := p.Size()
	blockSize := max(s.blockSize, (size+azureMaxBlocks-1)/azureMaxBlocks)
	token := make([]byte, 8)
	if _, err := rand.Read(token); err != nil {
		return &opError{store: s.name, op: "put", key: key, detail: safeText(err), cause: err}
	}
	ids := make([]string, (size+blockSize-1)/blockSize)
	for i := range ids {
		// Every id of a blob must have the same length.
		ids[i] = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%x-%08d", token, i))
	}
	err := uploadParts(ctx, p, blockSize, azureBlockConcurrency, sum, func(ctx context.Context, i int, block *io.SectionReader, blockMD5 []byte) error {
		_, err := blockBlob.StageBlock(ctx, ids[i], streaming.NopCloser(block), &blockblob.StageBlockOptions{
			TransactionalValidation: blob.TransferValidationTypeMD5(blockMD5),
		})
		if err != nil {
			return s.wrapErr("put", key, err)
		}
		return nil
	})
	if err != nil {
		return partsError(s.name, key, err)
	}
	_, err = blockBlob.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentMD5: sum},
	})
	if err != nil {
		return s.wrapErr("put", key, err)
	}
	return nil
}

func (s *azureStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := s.closed.checkCall(s, "open", key); err != nil {
		return nil, err
	}
	resp, err := s.client.NewBlobClient(s.prefix+key).DownloadStream(ctx, nil)
	if err != nil {
		return nil, s.wrapErr("open", key, err)
	}
	return resp.Body, nil
}

func (s *azureStore) List(ctx context.Context, fn func(ObjectInfo) error) error {
	if err := s.closed.check(s, "list", ""); err != nil {
		return err
	}
	pager := s.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &s.prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return s.wrapErr("list", "", err)
		}
		for _, item := range page.Segment.BlobItems {
			info := ObjectInfo{Key: strings.TrimPrefix(deref(item.Name), s.prefix)}
			if props := item.Properties; props != nil {
				info.Size = deref(props.ContentLength)
				if len(props.ContentMD5) == md5.Size {
					info.MD5 = props.ContentMD5
				}
			}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *azureStore) Delete(ctx context.Context, key string) error {
	if err := s.closed.checkCall(s, "delete", key); err != nil {
		return err
	}
	_, err := s.client.NewBlobClient(s.prefix+key).Delete(ctx, &blob.DeleteOptions{
		DeleteSnapshots: ptr(blob.DeleteSnapshotsOptionTypeInclude),
	})
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return s.wrapErr("delete", key, err)
	}
	return nil
}

func (s *azureStore) Close() error {
	s.closed.set()
	s.transport.CloseIdleConnections()
	return nil
}

// Azure error codes that mean the same as one of our kinds.
var (
	azureNotFoundCodes = []bloberror.Code{bloberror.BlobNotFound, bloberror.ContainerNotFound, bloberror.ResourceNotFound}
	azureDeniedCodes   = []bloberror.Code{
		bloberror.AuthenticationFailed, bloberror.AuthorizationFailure, bloberror.AuthorizationPermissionMismatch,
		bloberror.AuthorizationProtocolMismatch, bloberror.AuthorizationResourceTypeMismatch,
		bloberror.AuthorizationServiceMismatch, bloberror.AuthorizationSourceIPMismatch,
		bloberror.InsufficientAccountPermissions, bloberror.AccountIsDisabled,
	}
	// Md5Mismatch: the bytes were damaged on the way; the payload is
	// re-readable, so another attempt sends them again.
	azureTemporaryCodes = []bloberror.Code{bloberror.InternalError, bloberror.OperationTimedOut, bloberror.MD5Mismatch}
)

// wrapErr turns an SDK error into an opError with a kind and a short detail:
// HTTP status and error code. The SDK's own message is left out because it
// quotes the request and, for auth failures, the string the server signed.
func (s *azureStore) wrapErr(op, key string, err error) error {
	e := &opError{store: s.name, op: op, key: key, cause: err}
	var status int
	var respErr *azcore.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.StatusCode
		e.detail = fmt.Sprintf("HTTP %d %s", status, respErr.ErrorCode)
	} else {
		e.detail = safeText(err)
	}
	switch {
	case errors.Is(err, context.Canceled):
	case bloberror.HasCode(err, azureNotFoundCodes...) || status == http.StatusNotFound:
		e.kind = ErrNotExist
	case bloberror.HasCode(err, azureDeniedCodes...) || status == http.StatusForbidden || status == http.StatusUnauthorized:
		e.kind = ErrAccessDenied
	case bloberror.HasCode(err, bloberror.ServerBusy) || status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		e.kind = ErrThrottled
	case bloberror.HasCode(err, azureTemporaryCodes...) || status == http.StatusRequestTimeout || status >= 500:
		e.kind = ErrTemporary
	default:
		e.kind = networkKind(err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (s *azureStore) listShowsEveryKey() {}
