package blobsync

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"
)

// BytesPayload returns a Payload over b, hashing it now. b must not change
// while the payload is in use.
func BytesPayload(b []byte) Payload {
	sum := md5.Sum(b)
	return &bytesPayload{Reader: bytes.NewReader(b), md5: sum[:]}
}

type bytesPayload struct {
	*bytes.Reader // ReadAt is safe for concurrent use
	md5           []byte
}

func (p *bytesPayload) MD5() []byte { return p.md5 }

// payloadMD5 returns p.MD5(), hashing p's bytes when the payload does not
// know it.
func payloadMD5(p Payload) ([]byte, error) {
	if sum := p.MD5(); sum != nil {
		if len(sum) != md5.Size {
			return nil, fmt.Errorf("payload MD5 has %d bytes, want %d", len(sum), md5.Size)
		}
		return sum, nil
	}
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(p, 0, p.Size())); err != nil {
		return nil, fmt.Errorf("hash payload: %w", err)
	}
	return h.Sum(nil), nil
}

// errPayloadMismatch: the bytes read from a payload do not hash to its MD5.
var errPayloadMismatch = errors.New("payload bytes do not match their MD5")

// partsError gives an error of uploadParts that is not already a store's
// opError the store's name and a kind. A payload mismatch is temporary: a
// re-read may succeed where a disk hiccup spoiled the first.
func partsError(store, key string, err error) error {
	if err == nil || isOpError(err) {
		return err
	}
	kind := kindOf(err)
	if errors.Is(err, errPayloadMismatch) {
		kind = ErrTemporary
	}
	return &opError{store: store, op: "put", key: key, kind: kind, detail: err.Error(), cause: err}
}

// uploadParts reads p once in order, hashing each part and the whole, and
// hands each part with its MD5 to upload, up to concurrency at a time. The
// parts are SectionReaders over p, so nothing is buffered. It fails with
// errPayloadMismatch when the whole does not hash to want, so the caller
// can drop the parts instead of committing them.
func uploadParts(ctx context.Context, p Payload, partSize int64, concurrency int, want []byte,
	upload func(ctx context.Context, index int, part *io.SectionReader, partMD5 []byte) error,
) error {
	size := p.Size()
	whole := md5.New()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i, offset := 0, int64(0); offset < size; i, offset = i+1, offset+partSize {
		part := io.NewSectionReader(p, offset, min(partSize, size-offset))
		partMD5 := md5.New()
		if _, err := io.Copy(io.MultiWriter(whole, partMD5), part); err != nil {
			_ = g.Wait()
			return fmt.Errorf("read part %d: %w", i+1, err)
		}
		if gctx.Err() != nil {
			break // an upload failed; g.Wait reports it
		}
		sum := partMD5.Sum(nil)
		g.Go(func() error { return upload(gctx, i, io.NewSectionReader(part, 0, part.Size()), sum) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // cancelled between parts: the hash covers only some
	}
	if !bytes.Equal(whole.Sum(nil), want) {
		return errPayloadMismatch
	}
	return nil
}
