package blobsync

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestBlobBuffersHoldSmallBlobsInMemoryAndSpoolLargeOnes(t *testing.T) {
	const budget = 64 << 10 // blobs up to 16 KiB stay in memory
	tests := []struct {
		name     string
		size     int
		wantFile bool
	}{
		{"empty", 0, false},
		{"tiny", 10, false},
		{"quarter of the budget", 16 << 10, false},
		{"just over", 16<<10 + 1, true},
		{"larger than the budget", 100 << 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spool := t.TempDir()
			buffers := newBlobBuffers(budget, spool)
			data := randomBytes(3, tt.size)
			blob, err := buffers.read(t.Context(), int64(tt.size), bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			_, isFile := blob.Payload.(*filePayload)
			if isFile != tt.wantFile {
				t.Errorf("spooled = %v, want %v", isFile, tt.wantFile)
			}
			got, err := io.ReadAll(io.NewSectionReader(blob, 0, blob.Size()))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("payload reads back %d bytes (err %v), want the %d written", len(got), err, len(data))
			}
			if !bytes.Equal(blob.MD5(), md5Of(data)) {
				t.Errorf("MD5 = %x, want %x", blob.MD5(), md5Of(data))
			}
			blob.release()
			if left, _ := io.ReadAll(io.NewSectionReader(blob, 0, blob.Size())); tt.size > 0 && len(left) != 0 {
				t.Errorf("payload still readable after release")
			}
			if !buffers.budget.TryAcquire(budget) {
				t.Errorf("release did not return the memory budget")
			}
		})
	}
}

func TestBlobBuffersShortRead(t *testing.T) {
	for _, size := range []int64{10, 1 << 20} { // in memory, spooled
		buffers := newBlobBuffers(64<<10, t.TempDir())
		_, err := buffers.read(t.Context(), size, strings.NewReader("abc"))
		if err == nil || !strings.Contains(err.Error(), "short read: got 3 of") {
			t.Errorf("size %d: read = %v, want a short read error", size, err)
		}
		if !buffers.budget.TryAcquire(64 << 10) {
			t.Errorf("size %d: a failed read kept memory budget", size)
		}
	}
}

func TestBlobBuffersWaitForBudget(t *testing.T) {
	const budget = 64 << 10
	buffers := newBlobBuffers(budget, t.TempDir())
	var held []heldBlob
	for range 4 { // 4 × 16 KiB spends the budget
		blob, err := buffers.read(t.Context(), 16<<10, bytes.NewReader(make([]byte, 16<<10)))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, blob)
	}
	if buffers.budget.TryAcquire(1) {
		t.Fatal("budget not spent by 4 blobs of a quarter each")
	}
	got := make(chan error)
	go func() {
		blob, err := buffers.read(t.Context(), 10, strings.NewReader("0123456789"))
		if err == nil {
			blob.release()
		}
		got <- err
	}()
	held[0].release() // frees a quarter: the waiting read can go on
	if err := <-got; err != nil {
		t.Fatalf("read after budget freed: %v", err)
	}
	for _, b := range held[1:] {
		b.release()
	}
}

func TestMemPayloadReadAt(t *testing.T) {
	p := &memPayload{data: []byte("hello")}
	tests := []struct {
		off     int64
		n       int
		want    string
		wantErr error
	}{
		{0, 5, "hello", nil},
		{1, 3, "ell", nil},
		{3, 5, "lo", io.EOF},
		{5, 1, "", io.EOF},
	}
	for _, tt := range tests {
		buf := make([]byte, tt.n)
		n, err := p.ReadAt(buf, tt.off)
		if string(buf[:n]) != tt.want || !errors.Is(err, tt.wantErr) && err != tt.wantErr {
			t.Errorf("ReadAt(%d bytes at %d) = %q, %v; want %q, %v", tt.n, tt.off, buf[:n], err, tt.want, tt.wantErr)
		}
	}
	p.retire()
	if _, err := p.ReadAt(make([]byte, 1), 0); !errors.Is(err, errPayloadRetired) {
		t.Errorf("ReadAt after retire = %v, want errPayloadRetired", err)
	}
}

func BenchmarkMD5Streaming(b *testing.B) {
	const size = 1 << 20
	data := randomBytes(1, size)
	buffers := newBlobBuffers(64<<20, b.TempDir())
	b.SetBytes(size)
	for b.Loop() {
		blob, err := buffers.read(b.Context(), size, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		blob.release()
	}
}
