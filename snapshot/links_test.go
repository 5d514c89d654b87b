package snapshot

import (
	"archive/tar"
	"context"
	"slices"
	"strings"
	"testing"
)

const (
	uuidD = "dddd0000-1111-4222-8333-444455556666"
	uuidE = "eeee0000-1111-4222-8333-444455556666"
)

// Every entry that holds a blob's bytes delivers them under the blob's
// UUID: hard links (GNU tar's way of storing a second file with the same
// inode) with their target's bytes, and blobs in the wrong folder with a
// named anomaly. Links that cannot be resolved are anomalies.
func TestWalkDeliversLinkedAndMisplacedBlobs(t *testing.T) {
	link := func(name, target string) tarItem { return tarItem{name: name, typ: tar.TypeLink, link: target} }
	tests := []struct {
		name      string
		extra     []tarItem
		wantBlobs map[string]string // uuid -> body, besides A and B
		wantProbs []string          // anomaly substrings, in order
	}{
		{"hard link to an earlier blob", []tarItem{link(blobCPath, blobAPath)},
			map[string]string{uuidC: blobABody}, nil},
		{"hard link spelled with ./", []tarItem{link("./"+blobCPath, "./"+blobAPath)},
			map[string]string{uuidC: blobABody}, nil},
		{"two hard links to one blob", []tarItem{link(blobCPath, blobAPath), link("tree/dd/dd/"+uuidD, blobAPath)},
			map[string]string{uuidC: blobABody, uuidD: blobABody}, nil},
		{"hard link to the empty blob", []tarItem{link(blobCPath, blobBPath)},
			map[string]string{uuidC: ""}, nil},
		{"hard link to a file outside tree", []tarItem{file("extra.bin", "outside bytes"), link(blobCPath, "extra.bin")},
			map[string]string{uuidC: "outside bytes"}, []string{"unexpected entry"}},
		{"hard link to nothing", []tarItem{link(blobCPath, "tree/00/00/none")},
			nil, []string{`hard link to "tree/00/00/none", which the backup does not hold; not uploaded`}},
		{"hard link to a directory", []tarItem{link(blobCPath, "tree/0a/")},
			nil, []string{"which is not a regular file; not uploaded"}},
		{"hard link duplicating a blob", []tarItem{link("tree/0a/1b/"+strings.ToUpper(uuidA), blobBPath)},
			nil, []string{"duplicate blob"}},
		{"misplaced blob", []tarItem{file("tree/ab/cd/"+uuidC, "misplaced bytes")},
			map[string]string{uuidC: "misplaced bytes"}, []string{"stored under tree/ab/cd/ but belongs under tree/ff/ee/; uploaded under its UUID"}},
		{"blob too deep", []tarItem{file("tree/ff/ee/00/"+uuidC, "deep")},
			map[string]string{uuidC: "deep"}, []string{"not at tree/xx/yy/<uuid> but named by a UUID; uploaded under it"}},
		{"hard link to a misplaced blob, misplaced", []tarItem{file("tree/ab/cd/"+uuidE, "e bytes"), link("tree/12/34/"+uuidD, "tree/ab/cd/"+uuidE)},
			map[string]string{uuidE: "e bytes", uuidD: "e bytes"}, []string{"belongs under tree/ee/ee/", "belongs under tree/dd/dd/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openBackup(t, writeTarGz(t, append(wellFormed(), tt.extra...)))
			var rec recorder
			sum, err := b.Walk(context.Background(), rec.visitor())
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			want := map[string]string{uuidA: blobABody, uuidB: ""}
			for id, body := range tt.wantBlobs {
				want[id] = body
			}
			got := map[string]string{}
			var bytes int64
			for _, bl := range rec.blobs {
				got[bl.UUID] = bl.body
				if bl.Size != int64(len(bl.body)) {
					t.Errorf("blob %s: Size %d, %d bytes delivered", bl.UUID, bl.Size, len(bl.body))
				}
				bytes += bl.Size
			}
			if len(got) != len(want) || len(rec.blobs) != len(want) {
				t.Fatalf("blobs delivered = %v, want %v", got, want)
			}
			for id, body := range want {
				if got[id] != body {
					t.Errorf("blob %s = %q, want %q", id, got[id], body)
				}
			}
			if sum.Blobs != len(want) || sum.BlobBytes != bytes {
				t.Errorf("Summary: %d blobs, %d bytes; want %d, %d", sum.Blobs, sum.BlobBytes, len(want), bytes)
			}
			var probs []string
			for _, a := range rec.anomalies {
				probs = append(probs, a.String())
			}
			if len(probs) != len(tt.wantProbs) {
				t.Fatalf("anomalies = %q, want %d", probs, len(tt.wantProbs))
			}
			for i, p := range tt.wantProbs {
				if !strings.Contains(probs[i], p) {
					t.Errorf("anomaly %d = %q, want it to contain %q", i, probs[i], p)
				}
			}
			if !slices.Equal(rec.dumps, []string{fakeDump}) {
				t.Errorf("dumps = %q", rec.dumps)
			}
		})
	}
}
