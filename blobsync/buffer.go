package blobsync

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync"

	"golang.org/x/sync/semaphore"
)

// heldBlob is a blob read off the tar stream and kept until its upload is
// done. release must be called exactly once, after the last use.
type heldBlob struct {
	Payload
	release func()
}

// blobBuffers turns a one-pass reader into a re-readable Payload: small
// blobs into pooled memory under a byte budget, larger ones into a spool
// file, hashing MD5 on the way in so no second pass is needed.
type blobBuffers struct {
	budget    *semaphore.Weighted
	memoryMax int64 // largest buffer held in memory
	spoolDir  string
	pools     [64]sync.Pool // by size class: pools[i] holds *[]byte of cap 1<<i
}

// A blob stays in memory when its buffer is at most a quarter of the budget,
// so one large blob cannot stall the many small ones; larger blobs spool.
func newBlobBuffers(budget int64, spoolDir string) *blobBuffers {
	return &blobBuffers{budget: semaphore.NewWeighted(budget), memoryMax: budget / 4, spoolDir: spoolDir}
}

// minBufferClass keeps tiny blobs from fragmenting the pools.
const minBufferClass = 12 // 4 KiB

// bufferClass is the pool index whose buffers fit size bytes.
func bufferClass(size int64) int {
	return max(minBufferClass, bits.Len64(uint64(size-1)))
}

// read reads exactly size bytes of r. It blocks while the memory budget is
// spent, until ctx ends. Fewer than size bytes is an error.
func (b *blobBuffers) read(ctx context.Context, size int64, r io.Reader) (heldBlob, error) {
	if size == 0 {
		return heldBlob{Payload: &memPayload{md5: md5Empty[:]}, release: func() {}}, nil
	}
	class := bufferClass(size)
	if class > 40 || int64(1)<<class > b.memoryMax { // class > 40 (1 TiB) keeps the shift from overflowing
		return b.spool(size, r)
	}
	return b.inMemory(ctx, size, class, r)
}

var md5Empty = md5.Sum(nil)

func (b *blobBuffers) inMemory(ctx context.Context, size int64, class int, r io.Reader) (heldBlob, error) {
	weight := int64(1) << class
	if err := b.budget.Acquire(ctx, weight); err != nil {
		return heldBlob{}, err
	}
	bufp, _ := b.pools[class].Get().(*[]byte)
	if bufp == nil {
		buf := make([]byte, weight)
		bufp = &buf
	}
	giveBack := func() {
		b.pools[class].Put(bufp)
		b.budget.Release(weight)
	}
	data := (*bufp)[:size]
	if n, err := io.ReadFull(r, data); err != nil {
		giveBack()
		return heldBlob{}, shortRead(int64(n), size, err)
	}
	sum := md5.Sum(data)
	p := &memPayload{data: data, md5: sum[:]}
	return heldBlob{Payload: p, release: func() {
		p.retire()
		giveBack()
	}}, nil
}

func (b *blobBuffers) spool(size int64, r io.Reader) (heldBlob, error) {
	f, err := os.CreateTemp(b.spoolDir, "mxmigrate-spool-*")
	if err != nil {
		return heldBlob{}, fmt.Errorf("spool blob: %w", err)
	}
	// Unlink at once where the OS allows it, so a crash leaves no spool
	// file behind; remove again on release for the others.
	_ = os.Remove(f.Name())
	cleanup := func() {
		f.Close()
		_ = os.Remove(f.Name())
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size))
	if err != nil || n < size {
		cleanup()
		return heldBlob{}, shortRead(n, size, err)
	}
	return heldBlob{Payload: &filePayload{f: f, size: size, md5: h.Sum(nil)}, release: cleanup}, nil
}

func shortRead(got, want int64, err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("short read: got %d of %d bytes", got, want)
	}
	return fmt.Errorf("read after %d of %d bytes: %w", got, want, err)
}

// memPayload is a blob in a pooled buffer. After retire, ReadAt fails
// instead of reading a buffer that now holds another blob: an HTTP client
// may still be reading a request body after the call that sent it failed.
type memPayload struct {
	mu      sync.RWMutex
	data    []byte
	md5     []byte
	retired bool
}

var errPayloadRetired = errors.New("blob payload used after its upload finished")

func (p *memPayload) ReadAt(b []byte, off int64) (int, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	switch {
	case p.retired:
		return 0, errPayloadRetired
	case off < 0:
		return 0, errors.New("negative offset")
	case off >= int64(len(p.data)):
		return 0, io.EOF
	}
	n := copy(b, p.data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (p *memPayload) Size() int64 { return int64(len(p.data)) }
func (p *memPayload) MD5() []byte { return p.md5 }

func (p *memPayload) retire() {
	p.mu.Lock()
	p.retired = true
	p.mu.Unlock()
}

// filePayload is a blob spooled to disk.
type filePayload struct {
	f    *os.File
	size int64
	md5  []byte
}

func (p *filePayload) ReadAt(b []byte, off int64) (int, error) { return p.f.ReadAt(b, off) }
func (p *filePayload) Size() int64                             { return p.size }
func (p *filePayload) MD5() []byte                             { return p.md5 }
