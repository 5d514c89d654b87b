package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// oldGNUSparseEntry is a raw GNU tar header of type 'S' (old GNU sparse)
// for name, expanding to realSize bytes of which only the last one is
// stored, followed by that byte's data block: the way a few compressed
// bytes claim gigabytes. archive/tar cannot write sparse entries.
func oldGNUSparseEntry(name string, realSize int64) []byte {
	h := make([]byte, 512)
	octal := func(field []byte, v int64) { copy(field, fmt.Sprintf("%0*o\x00", len(field)-1, v)) }
	copy(h[0:100], name)
	octal(h[100:108], 0o644)
	octal(h[108:116], 0)
	octal(h[116:124], 0)
	octal(h[124:136], 1) // bytes stored
	octal(h[136:148], 0)
	h[156] = tar.TypeGNUSparse
	copy(h[257:265], "ustar  \x00")
	octal(h[386:398], realSize-1) // the one region: offset
	octal(h[398:410], 1)          // and length
	octal(h[483:495], realSize)
	copy(h[148:156], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	data := make([]byte, 512)
	data[0] = 'z'
	return append(h, data...)
}

// A sparse blob entry is named as an anomaly; its size is what it expands to.
func TestWalkNamesSparseBlob(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, it := range wellFormed() {
		typ := it.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		if err := tw.WriteHeader(&tar.Header{Name: it.name, Typeflag: typ, Size: int64(len(it.body)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(it.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	const realSize = 3 << 20
	buf.Write(oldGNUSparseEntry(blobCPath, realSize))
	buf.Write(make([]byte, 1024)) // end of archive
	b := openBackup(t, writeFile(t, "sparse.tar.gz", gzipBytes(t, buf.Bytes())))
	var rec recorder
	sum, err := b.Walk(context.Background(), rec.visitor())
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if len(rec.anomalies) != 1 || rec.anomalies[0].Entry != blobCPath || !strings.Contains(rec.anomalies[0].Problem, fmt.Sprintf("sparse entry expanding to %d bytes", realSize)) {
		t.Fatalf("anomalies = %q, want the sparse entry named", rec.anomalies)
	}
	last := rec.blobs[len(rec.blobs)-1]
	if last.UUID != uuidC || last.Size != realSize || len(last.body) != realSize || last.body[realSize-1] != 'z' {
		t.Fatalf("sparse blob delivered as %s, %d bytes (%d read)", last.UUID, last.Size, len(last.body))
	}
	if sum.BlobBytes != int64(len(blobABody))+realSize {
		t.Fatalf("BlobBytes = %d", sum.BlobBytes)
	}
}
