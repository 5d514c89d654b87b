package snapshot

import (
	"context"
	"fmt"
	"io"
	"testing"
)

// BenchmarkWalk measures the streaming read of a tar.gz with a few
// thousand small blobs, the shape of a typical Mendix app's files.
func BenchmarkWalk(b *testing.B) {
	const blobs, blobSize = 3000, 4 << 10
	items := []tarItem{file(".metadata", mendixMeta), dir("db/"), file("db/db.backup", fakeDump), dir("tree/")}
	body := randomText(blobSize)
	for i := range blobs {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i*2654435761%(1<<32), i)
		items = append(items, file("tree/"+id[0:2]+"/"+id[2:4]+"/"+id, body))
	}
	backup := openBackup(b, writeTarGz(b, items))
	v := Visitor{Blob: func(_ context.Context, _ Blob, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	}}
	b.SetBytes(int64(blobs * blobSize))
	for b.Loop() {
		sum, err := backup.Walk(context.Background(), v)
		if err != nil || sum.Blobs != blobs {
			b.Fatalf("Walk: %d blobs, err %v", sum.Blobs, err)
		}
	}
}
